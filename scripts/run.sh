#!/usr/bin/env bash
# run.sh — `make run`: the API server on the embedded default (SQLite) with a demo casino.
#
# On var/pitboss.db (DB=… to change): migrates; creates the brand "demo" (EUR, also
# USD; jurisdiction MT) when it does not exist yet; then makes sure the demo catalog
# exists (each piece only when missing):
#   - "demo-studio", a provider speaking pitboss's native wallet protocol; its HMAC
#     secret is generated and written to $KEYS/demo-studio.secret (hex, mode 0600) —
#     `pitboss sim provider --secret-file` plays as that studio;
#   - "hub88-demo", a provider speaking the Hub88 operator wallet protocol; an RSA
#     key pair is generated with openssl ($KEYS/hub88-demo.key, 0600, and .pub) and
#     its public key registered;
#   - games in the four categories (slots, crash, table, live) with bet limits in EUR
#     and USD, enabled for the demo brand;
# the sandbox PSP is built into `pitboss serve` (on unless PITBOSS_SANDBOX_PSP=0).
# Creates the first admin, admin@demo.local, when there is no staff at all (its
# one-time password is printed once); prints the walkthrough (deposit, play through
# the simulator, withdraw; README "Try it"); then execs `pitboss serve`. Safe to run
# again: what exists is kept. PITBOSS_LISTEN picks the address (default
# 127.0.0.1:8080), PITBOSS_KEYS_DIR the keys (default var/keys); Ctrl-C stops the
# server cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
DB=${DB:-var/pitboss.db}
LISTEN=${PITBOSS_LISTEN:-127.0.0.1:8080}
KEYS=${PITBOSS_KEYS_DIR:-var/keys}
P=$BUILD/pitboss
[ -x "$P" ] || { echo "run: $P is missing; run 'make run' (it builds first)" >&2; exit 1; }
mkdir -p "$(dirname "$DB")"
mkdir -p "$KEYS"
chmod 700 "$KEYS"

"$P" migrate --db "$DB" 2>/dev/null
if ! "$P" brand list --db "$DB" 2>/dev/null | grep -q '^brand demo '; then
  "$P" brand create --code demo --name "Demo Casino" --currency EUR --currencies EUR,USD \
    --jurisdiction MT --db "$DB" 2>/dev/null
fi

# ---- the demo catalog: providers with their keys, games, switched on for "demo"
providers=$("$P" provider list --db "$DB" 2>/dev/null || true)
if ! grep -q '^provider demo-studio ' <<<"$providers"; then
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077 && printf '%s\n' "$secret" >"$KEYS/demo-studio.secret")
  "$P" provider create --code demo-studio --name "Demo Studio" --protocol native \
    --secret-hex "$secret" --db "$DB" >/dev/null 2>&1
  echo "run: provider demo-studio (native protocol), its secret in $KEYS/demo-studio.secret"
elif [ ! -f "$KEYS/demo-studio.secret" ]; then
  echo "run: warning: $KEYS/demo-studio.secret is missing; the simulator cannot sign as demo-studio" >&2
fi
if ! grep -q '^provider hub88-demo ' <<<"$providers"; then
  (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$KEYS/hub88-demo.key" 2>/dev/null)
  openssl pkey -in "$KEYS/hub88-demo.key" -pubout -out "$KEYS/hub88-demo.pub" 2>/dev/null
  "$P" provider create --code hub88-demo --name "Hub88 Demo" --protocol hub88 \
    --public-key-file "$KEYS/hub88-demo.pub" --db "$DB" >/dev/null 2>&1
  echo "run: provider hub88-demo (Hub88 protocol), its RSA key pair in $KEYS/hub88-demo.key/.pub"
fi

# provider code "name" category rtp_bp volatility limits (minor units: EUR:10:10000 = 0.10..100.00)
demo_game() {
  local provider=$1 code=$2 name=$3 category=$4 rtp=$5 vol=$6
  shift 6
  if ! "$P" game list --provider "$provider" --db "$DB" 2>/dev/null | grep -q "^game $provider/$code "; then
    local limits=()
    for l in "$@"; do limits+=(--limit "$l"); done
    "$P" game create --provider "$provider" --code "$code" --name "$name" --category "$category" \
      --rtp-bp "$rtp" --volatility "$vol" "${limits[@]}" --db "$DB" >/dev/null 2>&1
    "$P" game enable --brand demo --provider "$provider" --game "$code" --db "$DB" >/dev/null 2>&1
  fi
}
demo_game demo-studio lucky-sevens "Lucky Sevens" slots 9600 high EUR:10:10000 USD:10:10000
demo_game demo-studio rocket-crash "Rocket Crash" crash 9700 high EUR:10:50000 USD:10:50000
demo_game demo-studio blackjack "Classic Blackjack" table 9950 low EUR:100:100000 USD:100:100000
demo_game demo-studio live-roulette "Live Roulette" live 9730 medium EUR:50:200000 USD:50:200000
demo_game hub88-demo fruit-party "Fruit Party" slots 9620 medium EUR:20:10000 USD:20:10000

staff=$(sqlite3 -readonly "$DB" "SELECT count(*) FROM staff")
if [ "$staff" = "0" ]; then
  echo
  "$P" admin create --email admin@demo.local --db "$DB" 2>/dev/null
  echo "Log in at POST /v1/admin/login as admin@demo.local with it: that first session is"
  echo "a setup session (change the password, enrol TOTP), then log in again with a code."
fi

U="http://$LISTEN"
echo
echo "pitboss: serving $U/docs (players: /v1/player/…, staff: /v1/admin/…)"
echo "Ctrl-C stops it. Logs are JSON lines on stderr."
cat <<EOF

Try it in another terminal (README.md, "Try it: deposit, play, withdraw"):
  U=$U; H='Content-Type: application/json'
  curl -s \$U/v1/player/register -H "\$H" -d '{"brand":"demo","email":"you@example.org","password":"correct horse battery","country":"MT","date_of_birth":"1990-01-01"}'
  T=\$(curl -s \$U/v1/player/login -H "\$H" -d '{"brand":"demo","email":"you@example.org","password":"correct horse battery"}' | jq -r .access_token)
  PAY=\$(curl -s \$U/v1/player/deposits -H "\$H" -H "Authorization: Bearer \$T" -d '{"amount":"100.00","idempotency_key":"my-first-deposit"}' | jq -r .redirect_url)
  curl -s -X POST \$U\$PAY                                          # "pay" at the sandbox PSP
  $P sim provider --url \$U --provider demo-studio --secret-file $KEYS/demo-studio.secret --brand demo --game lucky-sevens --email you@example.org --password 'correct horse battery' --rounds 50
  curl -s \$U/v1/player/wallet -H "Authorization: Bearer \$T"
  curl -s \$U/v1/player/withdrawals -H "\$H" -H "Authorization: Bearer \$T" -d '{"amount":"20.00","idempotency_key":"my-first-withdrawal"}'
  (then a finance member approves it in /v1/admin/withdrawals; the sandbox PSP pays it a second later)
EOF
echo
exec "$P" serve --db "$DB" --listen "$LISTEN"
