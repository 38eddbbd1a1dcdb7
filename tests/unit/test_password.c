/* test_password.c — bcrypt verification and the cheap cache hash. */
#include <string.h>

#include <apr_md5.h>

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

static void cache_hash_is_cheap_and_validates(void)
{
    const char *a = mi_password_cache_hash("password", tp);

    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_STRING_EQUAL(a, "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=");
    CU_ASSERT_EQUAL(apr_password_validate("password", a), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(apr_password_validate("passwore", a), APR_SUCCESS);
    CU_ASSERT_NOT_EQUAL(apr_password_validate("", a), APR_SUCCESS);
}

void add_password_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(bcrypt_hash_matches_its_password_only),
        UNIT_TEST(malformed_hashes_never_match),
        UNIT_TEST(cache_hash_is_cheap_and_validates),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("password", tests);
}
