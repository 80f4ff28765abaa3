"""rbac_matrix.py — THE expected access table of the staff API: every route under
/v1/admin × every caller, in one place. test_rbac.py reads it, compares its
routes with the live route table (`pitboss routes`): a route without a row here,
a row without a route, or a permission that differs fails the test.

Callers (columns):
  admin … auditor    a member of that role with a full session (password + TOTP).
                     admin and auditor see every brand; the others see brand
                     "alpha", where the target player lives.
  none               no Authorization header.
  expired            a session that has ended: the member logged out, and the
                     access token (still within its 5 minutes, correctly signed)
                     is presented again. A token whose `exp` is past cannot be
                     forged without the signing key; the session's end is what
                     the server has to honour.
  setup              a new member logged in with the one-time password only (a
                     setup session: TOTP not enrolled, password not changed).
  other_brand        an ADMIN whose scope is brand "beta" only: every permission,
                     so anything refused is refused by brand scope alone.

Cells: "ok" = allowed, and the test's valid request for that route answers 2xx;
otherwise "STATUS CODE", the exact refusal. Every request is valid for its route,
so a refusal can only come from authentication, permission, scope or state.
"""

CALLERS = ("admin", "support", "finance", "risk", "compliance", "game_ops", "auditor",
           "none", "expired", "setup", "other_brand")

# route name             permission           admin  support finance risk  compliance game_ops auditor | none  expired setup other_brand
_TABLE = """
admin.login              -                    ok     ok      ok      ok    ok         ok       ok        ok    ok      ok    ok
admin.refresh            -                    ok     ok      ok      ok    ok         ok       ok        ok    ok      ok    ok
admin.me                 staff                ok     ok      ok      ok    ok         ok       ok        401U  401R    ok    ok
admin.totp.enroll        staff                400I   400I    400I    400I  400I       400I     400I      401U  401R    ok    400I
admin.totp.confirm       staff                400I   400I    400I    400I  400I       400I     400I      401U  401R    ok    400I
admin.password           staff                ok     ok      ok      ok    ok         ok       ok        401U  401R    ok    ok
admin.logout             staff                ok     ok      ok      ok    ok         ok       ok        401U  401R    ok    ok
admin.players.list       players.read         ok     ok      ok      ok    ok         403      ok        401U  401R    403   ok
admin.players.get        players.read         ok     ok      ok      ok    ok         403      ok        401U  401R    403   404P
admin.players.block      players.block        ok     ok      403     ok    ok         403      403       401U  401R    403   404P
admin.players.unblock    players.block        ok     ok      403     ok    ok         403      403       401U  401R    403   404P
admin.players.launches.revoke players.block   ok     ok      403     ok    ok         403      403       401U  401R    403   404P
admin.players.sessions.revoke players.sessions.manage ok ok 403     403   403        403      403       401U  401R    403   404P
admin.players.accounts   players.ledger.read  ok     ok      ok      ok    ok         403      ok        401U  401R    403   404P
admin.players.transfers  players.ledger.read  ok     ok      ok      ok    ok         403      ok        401U  401R    403   404P
admin.brands.list        brands.read          ok     ok      ok      ok    ok         ok       ok        401U  401R    403   ok
admin.brands.create      brands.manage        ok     403     403     403   403        403      403       401U  401R    403   403B
admin.brands.get         brands.read          ok     ok      ok      ok    ok         ok       ok        401U  401R    403   404B
admin.brands.update      brands.manage        ok     403     403     403   403        403      403       401U  401R    403   404B
admin.staff.list         staff.read           ok     403     403     403   403        403      ok        401U  401R    403   ok
admin.staff.create       staff.manage         ok     403     403     403   403        403      403       401U  401R    403   403B
admin.staff.get          staff.read           ok     403     403     403   403        403      ok        401U  401R    403   404S
admin.staff.update       staff.manage         ok     403     403     403   403        403      403       401U  401R    403   404S
admin.audit.query        audit.read           ok     403     403     403   ok         403      ok        401U  401R    403   ok
admin.audit.export       audit.export         ok     403     403     403   403        403      ok        401U  401R    403   403B
# @rbac-sim
# @rbac-provider-hub88
# @rbac-provider-native
# @rbac-events
admin.events.stream      staff                ok     ok      ok      ok    ok         ok       ok        401U  401R    403   ok
# @rbac-games-play
# @rbac-backoffice
admin.transactions.list  finance.read         ok     403     ok      ok    403        403      ok        401U  401R    403   403B
admin.unclaimed_funds.list finance.read       ok     403     ok      ok    403        403      ok        401U  401R    403   403B
admin.unclaimed_funds.settle finance.adjust   422N   403     422N    403   403        403      403       401U  401R    403   403B
admin.unclaimed_funds.settlements.list finance.read ok 403   ok      ok    403        403      ok        401U  401R    403   ok
admin.unclaimed_funds.settlements.get finance.read 404U 403    404U    404U  403        403      404U      401U  401R    403   404U
admin.unclaimed_funds.settlements.approve finance.adjust 404U 403 404U 403  403        403      403       401U  401R    403   404U
admin.unclaimed_funds.settlements.reject finance.adjust 404U 403 404U  403   403        403      403       401U  401R    403   404U
admin.transactions.export finance.read        ok     403     ok      403   403        403      403       401U  401R    403   403B
admin.dashboard          reports.read         ok     403     ok      ok    ok         ok       ok        401U  401R    403   403B
admin.players.sessions   players.read         ok     ok      ok      ok    ok         403      ok        401U  401R    403   404P
admin.players.notes.list players.read         ok     ok      ok      ok    ok         403      ok        401U  401R    403   404P
admin.players.notes.add  players.write        ok     ok      403     403   403        403      403       401U  401R    403   404P
admin.players.rounds     players.read         ok     ok      ok      ok    ok         403      ok        401U  401R    403   404P
admin.players.rounds.void players.write       ok     ok      403     403   403        403      403       401U  401R    403   404P
admin.players.rounds.settle players.write     404G   404G    403     403   403        403      403       401U  401R    403   404P
admin.players.export     players.export       ok     403     403     403   ok         403      403       401U  401R    403   404P
admin.players.erase      players.erase        409F   403     403     403   409F       403      403       401U  401R    403   404P
admin.staff.totp_reset   staff.manage         ok     403     403     403   403        403      403       401U  401R    403   404S
admin.staff.unlock       staff.manage         ok     403     403     403   403        403      403       401U  401R    403   404S
admin.players.unlock     players.sessions.manage ok ok    403     403   403        403      403       401U  401R    403   404P
admin.audit.verify       audit.read           ok     403     403     403   403B       403      ok        401U  401R    403   403B
# @rbac-web
admin.originals.list     games.read           ok     ok      403     403   403        ok       ok        401U  401R    403   403B
admin.originals.rtp_set  games.manage         ok     403     403     403   403        ok       403       401U  401R    403   403B
admin.originals.control  games.read           ok     ok      403     403   403        ok       ok        401U  401R    403   403B
# @rbac-cashier
admin.withdrawals.list   finance.read         ok     403     ok      ok    403        403      ok        401U  401R    403   ok
admin.withdrawals.get    finance.read         ok     403     ok      ok    403        403      ok        401U  401R    403   404W
admin.withdrawals.approve finance.withdrawals.approve ok 403 ok    403   403        403      403       401U  401R    403   404W
admin.withdrawals.reject finance.withdrawals.approve ok  403     ok      403   403        403      403       401U  401R    403   404W
admin.withdrawals.resolve finance.withdrawals.approve 409W 403  409W    403   403        403      403       401U  401R    403   404W
admin.withdrawals.manual_state finance.withdrawals.approve 409W 403 409W 403 403     403      403       401U  401R    403   404W
admin.withdrawals.manual_confirm finance.withdrawals.approve 409W 403 409W 403 403   403      403       401U  401R    403   404W
admin.withdrawals.manual_withdraw finance.withdrawals.approve 404M 403 404M 403 403  403      403       401U  401R    403   404W
admin.payments.list      finance.read         ok     403     ok      ok    403        403      ok        401U  401R    403   ok
admin.payments.get       finance.read         ok     403     ok      ok    403        403      ok        401U  401R    403   404Y
admin.payments.complete  finance.adjust       422E   403     422E    403   403        403      403       401U  401R    403   404Y
admin.reconciliations.run finance.adjust      ok     403     ok      403   403        403      403       401U  401R    403   ok
admin.reconciliations.upload finance.adjust   ok     403     ok      403   403        403      403       401U  401R    403   ok
admin.reconciliations.list finance.read       ok     403     ok      ok    403        403      ok        401U  401R    403   ok
admin.reconciliations.get finance.read        ok     403     ok      ok    403        403      ok        401U  401R    403   ok
admin.psps.list finance.read                  ok     403     ok      ok    403        403      ok        401U  401R    403   ok
# @rbac-catalog
admin.providers.list     games.read           ok     ok      403     403   403        ok       ok        401U  401R    403   ok
admin.providers.create   games.manage         ok     403     403     403   403        ok       403       401U  401R    403   ok
admin.providers.get      games.read           ok     ok      403     403   403        ok       ok        401U  401R    403   ok
admin.providers.update   games.manage         ok     403     403     403   403        ok       403       401U  401R    403   ok
admin.games.list         games.read           ok     ok      403     403   403        ok       ok        401U  401R    403   ok
admin.games.create       games.manage         ok     403     403     403   403        ok       403       401U  401R    403   ok
admin.games.get          games.read           ok     ok      403     403   403        ok       ok        401U  401R    403   ok
admin.games.update       games.manage         ok     403     403     403   403        ok       403       401U  401R    403   ok
admin.brands.games.set   games.manage         ok     403     403     403   403        ok       403       401U  401R    403   403B
# @rbac-wallet
admin.players.adjust     finance.adjust       ok     403     ok      403   403        403      403       401U  401R    403   404P
admin.adjustments.list   finance.read         ok     403     ok      ok    403        403      ok        401U  401R    403   ok
admin.adjustments.get    finance.read         ok     403     ok      ok    403        403      ok        401U  401R    403   404A
admin.adjustments.approve finance.adjust      ok     403     ok      403   403        403      403       401U  401R    403   404A
admin.adjustments.reject finance.adjust       ok     403     ok      403   403        403      403       401U  401R    403   404A
"""

# What a refusal cell means: (HTTP status, error code).
_CELLS = {
    "403": (403, "FORBIDDEN"),
    "403B": (403, "BRAND_FORBIDDEN"),
    "401U": (401, "UNAUTHENTICATED"),
    "401R": (401, "SESSION_REVOKED"),
    "400I": (400, "INVALID_REQUEST"),
    "404P": (404, "PLAYER_NOT_FOUND"),
    "404B": (404, "BRAND_NOT_FOUND"),
    "404S": (404, "STAFF_NOT_FOUND"),
    # @rbac-cells: more refusal kinds, one line each
    "404W": (404, "WITHDRAWAL_NOT_FOUND"),
    "404Y": (404, "PAYMENT_NOT_FOUND"),
    "422E": (422, "RECONCILIATION_NO_EVIDENCE"),  # payments.complete: the matrix's run does not list its deposit
    "409W": (409, "WITHDRAWAL_STATE"),  # resolve: the matrix's withdrawals wait for approval
    "404M": (404, "MANUAL_RESOLUTION_NOT_FOUND"),  # no manual resolution stated on them
    "409F": (409, "PLAYER_HAS_FUNDS"),
    "409R": (409, "RETENTION_PERIOD"),
    "404G": (404, "ROUND_NOT_FOUND"),
    "422N": (422, "INSUFFICIENT_FUNDS"),  # unclaimed settle: alpha holds no unclaimed funds
    "404U": (404, "SETTLEMENT_NOT_FOUND"),  # unclaimed settlements: alpha holds no unclaimed funds, so no request exists (a made-up id)
    "404A": (404, "ADJUSTMENT_NOT_FOUND"),  # a foreign brand's request reads as unknown  # settle: a made-up round (a stuck payout cannot be made here)
}


def _parse():
    routes = {}
    for line in _TABLE.strip().splitlines():
        if line.startswith("#"):
            continue  # an anchor where a section's rows go
        cols = line.split()
        name, perm, cells = cols[0], cols[1], cols[2:]
        if len(cells) != len(CALLERS):
            raise ValueError(f"rbac_matrix: {name} has {len(cells)} cells, want {len(CALLERS)}")
        if name in routes:
            raise ValueError(f"rbac_matrix: {name} twice")
        expect = {}
        for caller, cell in zip(CALLERS, cells):
            if cell != "ok" and cell not in _CELLS:
                raise ValueError(f"rbac_matrix: {name}/{caller}: unknown cell {cell}")
            expect[caller] = "ok" if cell == "ok" else _CELLS[cell]
        routes[name] = {"permission": None if perm == "-" else perm, "expect": expect}
    return routes


# {route name: {"permission": str or None, "expect": {caller: "ok" or (status, code)}}}
MATRIX = _parse()
