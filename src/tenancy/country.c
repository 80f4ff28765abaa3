/*
 * country.c — ISO 3166-1 alpha-2 country codes (the 249 officially assigned
 * ones, as in Debian's iso-codes) and jurisdiction codes built on them.
 */
#include <string.h>

#include "tenancy/tenancy.h"

/* Sorted, two letters each, no separators: binary search by index. */
static const char COUNTRIES[] =
    "ADAEAFAGAIALAMAOAQARASATAUAWAXAZBABBBDBEBFBGBHBIBJBLBMBNBOBQBRBSBTBVBWBYBZ"
    "CACCCDCFCGCHCICKCLCMCNCOCRCUCVCWCXCYCZDEDJDKDMDODZECEEEGEHERESETFIFJFKFMFOFR"
    "GAGBGDGEGFGGGHGIGLGMGNGPGQGRGSGTGUGWGYHKHMHNHRHTHUIDIEILIMINIOIQIRISITJEJMJOJP"
    "KEKGKHKIKMKNKPKRKWKYKZLALBLCLILKLRLSLTLULVLYMAMCMDMEMFMGMHMKMLMMMNMOMPMQMRMSMT"
    "MUMVMWMXMYMZNANCNENFNGNINLNONPNRNUNZOMPAPEPFPGPHPKPLPMPNPRPSPTPWPYQARERORSRURW"
    "SASBSCSDSESGSHSISJSKSLSMSNSOSRSSSTSVSXSYSZTCTDTFTGTHTJTKTLTMTNTOTRTTTVTWTZUAUG"
    "UMUSUYUZVAVCVEVGVIVNVUWFWSYEYTZAZMZW";

/* True when the two characters at cc form an assigned alpha-2 code. */
static bool country2_valid(const char *cc)
{
    size_t lo = 0, hi = (sizeof COUNTRIES - 1) / 2;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int d = memcmp(cc, COUNTRIES + 2 * mid, 2);
        if (d == 0)
            return true;
        if (d < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return false;
}

/* Two upper-case letters that are an assigned code. */
bool pb_tenancy_country_valid(const char *cc)
{
    return cc && cc[0] >= 'A' && cc[0] <= 'Z' && cc[1] >= 'A' && cc[1] <= 'Z' && cc[2] == 0 &&
           country2_valid(cc);
}

/* A country ("MT"), or a country and an ISO 3166-2 subdivision of 1-3 upper-case
 * letters or digits ("CA-ON", "US-NJ") for licences granted below country level. */
bool pb_tenancy_jurisdiction_valid(const char *code)
{
    if (!code || strlen(code) < 2)
        return false;
    char cc[3] = {code[0], code[1], 0};
    if (!pb_tenancy_country_valid(cc))
        return false;
    if (code[2] == 0)
        return true;
    if (code[2] != '-')
        return false;
    size_t n = strlen(code + 3);
    if (n < 1 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = code[3 + i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9')))
            return false;
    }
    return true;
}
