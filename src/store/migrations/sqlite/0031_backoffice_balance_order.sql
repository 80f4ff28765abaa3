-- 0031 back office: the staff player list's balance order, served by an index.
--
-- GET /v1/admin/players?sort=balance&currency=C orders a brand's players by
-- their cash balance in C (available: credits_posted - debits_posted -
-- debits_pending of the player_cash account, as ledger_balance holds it; 0
-- without an account), ties by player id. Computed per request, that was every
-- player of the brand read, looked up in the ledger and sorted, for every page.
--
-- player_cash_order holds that key for each player and currency: one row for
-- each of the brand's currencies and the player's own currency (available 0,
-- account_id NULL, until a cash account exists), and one for each cash account
-- the player has (the same row when the currency is one of those). The
-- triggers keep it equal to ledger_balance in the same transaction that
-- changes ledger_balance, so it shows exactly what the per-request
-- computation showed (both lag the ledger's in-memory counters by the
-- write-back delay, 0008). The index (brand_id, currency, available,
-- player_id) then serves one brand's page as a range read.
--
-- What it costs the ledger writer: a balance row written back runs the update
-- trigger only when its available amount changed, one lookup by account_id
-- (no row for a house, provider or PSP account) and, for a player's account,
-- one row and one index entry moved. Account creation adds one upsert.
CREATE TABLE player_cash_order (
    player_id  INTEGER NOT NULL,          -- player.id
    currency   TEXT    NOT NULL,
    brand_id   INTEGER NOT NULL,          -- the player's brand
    account_id INTEGER,                   -- the player_cash account in currency; NULL: none yet
    available  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (player_id, currency)
) WITHOUT ROWID;
CREATE UNIQUE INDEX player_cash_order_account ON player_cash_order (account_id)
    WHERE account_id IS NOT NULL;
CREATE INDEX player_cash_order_key ON player_cash_order (brand_id, currency, available, player_id);

-- the rows of the players there are: their brand's currencies and their own ...
INSERT OR IGNORE INTO player_cash_order (player_id, currency, brand_id)
    SELECT p.id, bc.currency, p.brand_id FROM player p
      JOIN brand_currency bc ON bc.brand_id = p.brand_id;
INSERT OR IGNORE INTO player_cash_order (player_id, currency, brand_id)
    SELECT p.id, p.currency, p.brand_id FROM player p;
-- ... and their cash accounts, with the balance rows as they are
INSERT INTO player_cash_order (player_id, currency, brand_id, account_id, available)
    SELECT p.id, a.currency, p.brand_id, a.id,
           coalesce((SELECT b.credits_posted - b.debits_posted - b.debits_pending
                       FROM ledger_balance b WHERE b.account_id = a.id), 0)
      FROM ledger_account a
      JOIN brand br ON br.code = a.brand
      JOIN player p ON p.public_id = substr(a.owner, 8) AND p.brand_id = br.id
     WHERE a.kind = 'player_cash' AND substr(a.owner, 1, 7) = 'player:'
    ON CONFLICT (player_id, currency) DO UPDATE SET account_id = excluded.account_id,
                                                    available = excluded.available;

-- a new player: a row per currency of the brand and for their own, and their
-- cash accounts should any exist already
CREATE TRIGGER player_cash_order_player AFTER INSERT ON player
BEGIN
    INSERT OR IGNORE INTO player_cash_order (player_id, currency, brand_id)
        SELECT NEW.id, bc.currency, NEW.brand_id FROM brand_currency bc
         WHERE bc.brand_id = NEW.brand_id;
    INSERT OR IGNORE INTO player_cash_order (player_id, currency, brand_id)
        VALUES (NEW.id, NEW.currency, NEW.brand_id);
    INSERT INTO player_cash_order (player_id, currency, brand_id, account_id, available)
        SELECT NEW.id, a.currency, NEW.brand_id, a.id,
               coalesce((SELECT b.credits_posted - b.debits_posted - b.debits_pending
                           FROM ledger_balance b WHERE b.account_id = a.id), 0)
          FROM ledger_account a JOIN brand br ON br.code = a.brand AND br.id = NEW.brand_id
         WHERE a.owner = 'player:' || NEW.public_id AND a.kind = 'player_cash'
        ON CONFLICT (player_id, currency) DO UPDATE SET account_id = excluded.account_id,
                                                        available = excluded.available;
END;

-- a brand's new currency: a row for each of its players
CREATE TRIGGER player_cash_order_currency AFTER INSERT ON brand_currency
BEGIN
    INSERT OR IGNORE INTO player_cash_order (player_id, currency, brand_id)
        SELECT p.id, NEW.currency, NEW.brand_id FROM player p WHERE p.brand_id = NEW.brand_id;
END;

-- a player's new cash account (its balance row follows with zeros, or exists)
CREATE TRIGGER player_cash_order_account AFTER INSERT ON ledger_account
WHEN NEW.kind = 'player_cash' AND substr(NEW.owner, 1, 7) = 'player:'
BEGIN
    INSERT INTO player_cash_order (player_id, currency, brand_id, account_id, available)
        SELECT p.id, NEW.currency, p.brand_id, NEW.id,
               coalesce((SELECT b.credits_posted - b.debits_posted - b.debits_pending
                           FROM ledger_balance b WHERE b.account_id = NEW.id), 0)
          FROM player p JOIN brand br ON br.id = p.brand_id AND br.code = NEW.brand
         WHERE p.public_id = substr(NEW.owner, 8)
        ON CONFLICT (player_id, currency) DO UPDATE SET account_id = excluded.account_id,
                                                        available = excluded.available;
END;

-- a balance row inserted with amounts (a restore, a repair), and every write-back
CREATE TRIGGER player_cash_order_balance_new AFTER INSERT ON ledger_balance
BEGIN
    UPDATE player_cash_order
       SET available = NEW.credits_posted - NEW.debits_posted - NEW.debits_pending
     WHERE account_id = NEW.account_id;
END;
CREATE TRIGGER player_cash_order_balance AFTER UPDATE OF debits_pending, debits_posted,
    credits_posted ON ledger_balance
WHEN NEW.credits_posted - NEW.debits_posted - NEW.debits_pending
     IS NOT OLD.credits_posted - OLD.debits_posted - OLD.debits_pending
BEGIN
    UPDATE player_cash_order
       SET available = NEW.credits_posted - NEW.debits_posted - NEW.debits_pending
     WHERE account_id = NEW.account_id;
END;

-- rows that go: an account or a balance row deleted (a repair), a player deleted
CREATE TRIGGER player_cash_order_account_gone AFTER DELETE ON ledger_account
BEGIN
    UPDATE player_cash_order SET account_id = NULL, available = 0 WHERE account_id = OLD.id;
END;
CREATE TRIGGER player_cash_order_balance_gone AFTER DELETE ON ledger_balance
BEGIN
    UPDATE player_cash_order SET available = 0 WHERE account_id = OLD.account_id;
END;
CREATE TRIGGER player_cash_order_player_gone AFTER DELETE ON player
BEGIN
    DELETE FROM player_cash_order WHERE player_id = OLD.id;
END;
