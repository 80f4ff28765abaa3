-- 0043 the event outbox by brand: the newest event of some brands (the staff
-- dashboard's last_event_id for a member limited to them: the platform-wide
-- newest id would tell them the platform's volume) in one index lookup per
-- brand instead of a scan of the retention window.
CREATE INDEX event_outbox_brand ON event_outbox (brand, id);
