-- 0002 tenancy: brands (tenants). A brand owns its players and their money (the
-- ledger's `brand` column holds the brand's code); staff are scoped to brands
-- (staff_brand in 0003). Times are int64 microseconds since the Unix epoch (UTC).

-- code is immutable once created: it names the brand in the ledger and in tokens.
CREATE TABLE brand (
    id               INTEGER PRIMARY KEY,
    code             TEXT    NOT NULL UNIQUE,       -- [a-z0-9-]{2,32}
    name             TEXT    NOT NULL,
    default_currency TEXT    NOT NULL,              -- one of the brand's currencies
    jurisdiction     TEXT    NOT NULL,              -- ISO 3166-1 alpha-2, or alpha-2 '-' subdivision (CA-ON)
    settings         TEXT    NOT NULL DEFAULT '{}', -- a JSON object, validated by src/tenancy/
    status           TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- The currencies a brand accepts; the default currency is always one of them.
CREATE TABLE brand_currency (
    brand_id INTEGER NOT NULL,
    currency TEXT    NOT NULL,
    PRIMARY KEY (brand_id, currency)
) WITHOUT ROWID;
