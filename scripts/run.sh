#!/usr/bin/env bash
# run.sh — `make run`: the API server and the back office UI on the embedded default
# (SQLite) with a demo casino and some demo activity in it.
#
# Builds the UI first (scripts/web-build.sh: npm ci / npm run build when out of date);
# `pitboss serve --web-dir web/dist` serves it at / (the back office).
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
# the sandbox PSP is built into `pitboss serve`, off unless PITBOSS_SANDBOX_PSP=1: this
# demo turns it on (anyone who reaches its endpoints can complete a deposit).
# Creates the first admin, admin@demo.local, when there is no staff at all (its
# one-time password is printed once) with the back office's first-login steps; prints
# the walkthrough (deposit, play through the simulator, withdraw; README "Try it");
# then starts `pitboss serve` in the background, waits for /healthz and, once per
# database (a marker file beside it: <db>.demo-activity), seeds demo ACTIVITY over
# HTTP: players with names, deposits through the sandbox PSP, provider rounds with
# `pitboss sim provider`, in-house dice rounds and a pending withdrawal; then waits
# on the server. Safe to run again: what exists is kept. PITBOSS_LISTEN picks the
# address (default 127.0.0.1:8080), PITBOSS_KEYS_DIR the keys (default var/keys);
# Ctrl-C stops the server cleanly (SIGTERM, drained).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
DB=${DB:-var/pitboss.db}
LISTEN=${PITBOSS_LISTEN:-127.0.0.1:8080}
KEYS=${PITBOSS_KEYS_DIR:-var/keys}
P=$BUILD/pitboss
[ -x "$P" ] || { echo "run: $P is missing; run 'make run' (it builds first)" >&2; exit 1; }
mkdir -p "$(dirname "$DB")"
WEB=web/dist
if ! scripts/web-build.sh; then
  echo "run: warning: the back office UI could not be built (see above); / answers 503 until it is" >&2
fi
mkdir -p "$KEYS"
chmod 700 "$KEYS"

"$P" migrate --db "$DB" 2>/dev/null
if ! "$P" brand list --db "$DB" 2>/dev/null | grep -q '^brand demo '; then
  "$P" brand create --code demo --name "Demo Casino" --currency EUR --currencies EUR,USD \
    --jurisdiction MT --settings '{"withdrawal_4eyes_thresholds":{"EUR":100000,"USD":100000}}' --db "$DB" 2>/dev/null
fi

# ---- the demo catalog: providers with their keys, games, switched on for "demo"
providers=$("$P" provider list --db "$DB" 2>/dev/null || true)
if ! grep -q '^provider demo-studio ' <<<"$providers"; then
  secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077 && printf '%s\n' "$secret" >"$KEYS/demo-studio.secret")
  "$P" provider create --code demo-studio --name "Demo Studio" --protocol native \
    --secret-hex "$secret" --db "$DB" --keys-dir "$KEYS" >/dev/null 2>&1
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
U="http://$LISTEN"
if [ "$staff" = "0" ]; then
  echo
  "$P" admin create --email admin@demo.local --db "$DB" 2>/dev/null
  cat <<EOF
First login to the back office:
  1. open $U/ in a browser;
  2. e-mail admin@demo.local, password: the one-time password above;
  3. set a new password;
  4. scan the QR code with an authenticator app (or type the secret shown under it);
  5. enter the 6-digit code the app shows to confirm;
  6. log in again with the new password and a fresh code.
EOF
fi

echo
echo "pitboss: the back office at $U/ ; the API at $U/docs (players: /v1/player/…, staff: /v1/admin/…)"
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
  (then a finance member approves it in the back office's Withdrawals page; the sandbox PSP pays it a second later)
EOF
echo

# ---- the server in the background; Ctrl-C / SIGTERM are passed on and waited for
# (a background job of a script ignores SIGINT: the trap forwards a SIGTERM)
PITBOSS_SANDBOX_PSP=1 "$P" serve --db "$DB" --listen "$LISTEN" --keys-dir "$KEYS" --web-dir "$WEB" &
SERVER=$!
stop_server() {
  trap - INT TERM
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  exit 0
}
trap stop_server INT TERM

up=0
for _ in $(seq 1 300); do
  if curl -sf -o /dev/null "$U/healthz"; then up=1; break; fi
  kill -0 "$SERVER" 2>/dev/null || break
  sleep 0.1
done

# ---- demo activity, once per database (over HTTP, as players and a provider would)
MARK="$DB.demo-activity"
seed() {
  local H='Content-Type: application/json' pw='demo-player-pass-1' i=0 n
  local names=("Ada Lovelace" "Alan Turing" "Grace Hopper" "Edsger Dijkstra" "Barbara Liskov"
    "Ken Thompson")
  local tokens=() emails=()
  for n in "${names[@]}"; do
    i=$((i + 1))
    local first=${n%% *} last=${n#* } cur=EUR email body code t pay
    [ $i -eq 6 ] && cur=USD
    email="$(tr 'A-Z' 'a-z' <<<"$first").$(tr 'A-Z' 'a-z' <<<"$last")@demo.local"
    body=$(jq -nc --arg e "$email" --arg p "$pw" --arg f "$first" --arg l "$last" --arg c "$cur" \
      '{brand:"demo",email:$e,password:$p,country:"MT",date_of_birth:"1988-04-01",currency:$c,
        first_name:$f,last_name:$l}')
    code=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/player/register" -H "$H" -d "$body")
    if [ "$code" = "400" ]; then # a server without player names: register without them
      body=$(jq -c 'del(.first_name, .last_name)' <<<"$body")
      code=$(curl -s -o /dev/null -w '%{http_code}' "$U/v1/player/register" -H "$H" -d "$body")
    fi
    [ "$code" = "201" ] || [ "$code" = "409" ] || { echo "seed: register $email: HTTP $code" >&2; return 1; }
    t=$(curl -s "$U/v1/player/login" -H "$H" \
      -d "$(jq -nc --arg e "$email" --arg p "$pw" '{brand:"demo",email:$e,password:$p}')" |
      jq -r .access_token)
    [ -n "$t" ] && [ "$t" != null ] || { echo "seed: login $email failed" >&2; return 1; }
    tokens+=("$t")
    emails+=("$email")
    # a deposit through the sandbox PSP, "paid" at once
    pay=$(curl -s "$U/v1/player/deposits" -H "$H" -H "Authorization: Bearer $t" \
      -d "{\"amount\":\"$((i * 50 + 50)).00\",\"idempotency_key\":\"demo-deposit-$i\"}" |
      jq -r .redirect_url)
    if [ -n "$pay" ] && [ "$pay" != null ]; then curl -s -o /dev/null -X POST "$U$pay"; fi
  done
  # provider rounds: the simulator plays as demo-studio for three of them
  for k in 0 1 2; do
    "$P" sim provider --url "$U" --provider demo-studio --secret-file "$KEYS/demo-studio.secret" \
      --brand demo --game lucky-sevens --email "${emails[$k]}" --password "$pw" \
      --rounds $((10 + k * 5)) --seed $((k + 1)) --concurrency 2 --bet-max 2.00 >/dev/null 2>&1 ||
      echo "seed: warning: sim provider for ${emails[$k]} reported a problem" >&2
  done
  # in-house dice rounds (a player's first bet registers the originals for "demo")
  for k in 3 4; do
    for r in 1 2 3; do
      curl -s -o /dev/null "$U/v1/player/originals/dice/bets" -H "$H" \
        -H "Authorization: Bearer ${tokens[$k]}" -H "Idempotency-Key: demo-dice-$k-$r" \
        -d '{"amount":"1.00","params":{"target":50,"direction":"over"}}'
    done
  done
  # a pending withdrawal: it waits for a finance member's approval in the back office
  curl -s -o /dev/null "$U/v1/player/withdrawals" -H "$H" -H "Authorization: Bearer ${tokens[1]}" \
    -d '{"amount":"25.00","idempotency_key":"demo-withdrawal-1"}'
  return 0
}
if [ $up -eq 1 ] && [ ! -f "$MARK" ]; then
  if seed; then
    date -u +%FT%TZ >"$MARK"
    echo "run: demo activity added (players, deposits, provider and dice rounds, a pending withdrawal)"
  else
    echo "run: warning: the demo activity could not be added completely" >&2
  fi
fi
[ $up -eq 1 ] && echo "pitboss: ready — the back office is at $U/"
wait "$SERVER"
