-- 0044 a void round pays nothing, so it keeps no multiplier: a crash bet cashed
-- out and then void by staff kept its cash-out multiplier on the row, and the
-- history and the staff views showed a payout that never happened (the staff
-- void now clears it, src/games/play_staff.c; the audit entry's before keeps it).
-- This clears the rows voided before.
UPDATE game_round SET multiplier = NULL WHERE state IN ('voiding', 'void') AND multiplier IS NOT NULL;
