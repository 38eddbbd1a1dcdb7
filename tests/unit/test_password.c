/* test_password.c — bcrypt verification, the 72-byte limit and the stand-in hash. */
#include <crypt.h>
#include <string.h>

#include "mi_password.h"
#include "unit.h"

/* bcrypt of "password", cost 4 (libxcrypt; pgcrypto produces the same $2a$ format) */
#define HASH_2A "$2a$04$abcdefghijklmnopqrstuughE8Ev8uGFaUgY2cNEySvxngrb/Jzdm"

static void bcrypt_hash_matches_its_password_only(void)
{
    CU_ASSERT_TRUE(mi_password_verify("password", HASH_2A));
    CU_ASSERT_FALSE(mi_password_verify("Password", HASH_2A));
    CU_ASSERT_FALSE(mi_password_verify("", HASH_2A));
}

static void malformed_hashes_never_match(void)
{
    CU_ASSERT_FALSE(mi_password_verify("password", NULL));
    CU_ASSERT_FALSE(mi_password_verify(NULL, HASH_2A));
    CU_ASSERT_FALSE(mi_password_verify("password", ""));
    CU_ASSERT_FALSE(mi_password_verify("password", "password"));
    CU_ASSERT_FALSE(mi_password_verify("password", "$2a$04$short"));
}

/* bcrypt would accept any password that shares the first 72 bytes: longer ones never match */
static void passwords_over_72_bytes_never_match(void)
{
    struct crypt_data data;
    char pw72[MI_PASSWORD_MAX_BYTES + 1], pw73[MI_PASSWORD_MAX_BYTES + 2];
    const char *hash;

    memset(pw72, 'a', MI_PASSWORD_MAX_BYTES);
    pw72[MI_PASSWORD_MAX_BYTES] = '\0';
    memset(pw73, 'a', MI_PASSWORD_MAX_BYTES + 1);
    pw73[MI_PASSWORD_MAX_BYTES + 1] = '\0';
    memset(&data, 0, sizeof(data));
    hash = crypt_rn(pw72, "$2a$04$abcdefghijklmnopqrstuu", &data, (int)sizeof(data));
    CU_ASSERT_PTR_NOT_NULL_FATAL(hash);
    CU_ASSERT_EQUAL_FATAL(hash[0], '$');
    /* libcrypt itself would take the 73-byte one: that is what the limit is for */
    CU_ASSERT_TRUE(mi_password_verify(pw72, hash));
    CU_ASSERT_FALSE(mi_password_verify(pw73, hash));
}

/* The stand-in for unknown users must cost what a real check costs: a well-formed bcrypt
 * hash (libcrypt computes it in full) of the provisioning functions' scheme and cost. */
static void dummy_hash_is_a_real_cost_10_bcrypt_hash(void)
{
    struct crypt_data data;
    const char *dummy = mi_password_dummy_hash(), *out;

    CU_ASSERT_EQUAL(strncmp(dummy, "$2a$10$", 7), 0);
    CU_ASSERT_EQUAL(strlen(dummy), 60);
    memset(&data, 0, sizeof(data));
    out = crypt_rn("password", dummy, &data, (int)sizeof(data));
    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    CU_ASSERT_EQUAL(out[0], '$');
    CU_ASSERT_EQUAL(strncmp(out, dummy, 29), 0);    /* same scheme, cost and salt */
    CU_ASSERT_FALSE(mi_password_verify("password", dummy));
    CU_ASSERT_FALSE(mi_password_verify("", dummy));
}

void add_password_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(bcrypt_hash_matches_its_password_only),
        UNIT_TEST(malformed_hashes_never_match),
        UNIT_TEST(passwords_over_72_bytes_never_match),
        UNIT_TEST(dummy_hash_is_a_real_cost_10_bcrypt_hash),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("password", tests);
}
