/* test_secret.c — the database password file: what is accepted, what is refused and why. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_strings.h>
#include <apr_user.h>

#include "mi_secret.h"
#include "unit.h"

/* A file in a fresh temporary directory holding @len bytes of @content, with @mode. */
static const char *secret_file(const char *content, size_t len, mode_t mode)
{
    char *dir = apr_pstrdup(tp, "/tmp/mi-secret-XXXXXX");
    const char *path;
    FILE *f;

    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    path = apr_pstrcat(tp, dir, "/db.password", NULL);
    f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(content, 1, len, f), len);
    fclose(f);
    CU_ASSERT_EQUAL(chmod(path, mode), 0);
    return path;
}

static void remove_file(const char *path)
{
    char *dir = apr_pstrdup(tp, path);

    unlink(path);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
}

static apr_uid_t me(void)
{
    apr_uid_t uid;
    apr_gid_t gid;

    CU_ASSERT_EQUAL_FATAL(apr_uid_current(&uid, &gid, tp), APR_SUCCESS);
    return uid;
}

/* Read @content written with @mode; returns the secret or NULL (the reason in *perr). */
static const char *read_back(const char *content, size_t len, mode_t mode, const char **perr)
{
    const char *path = secret_file(content, len, mode);
    const char *secret = NULL;
    apr_status_t rv = mi_secret_read_file(&secret, perr, path, me(), tp);

    remove_file(path);
    CU_ASSERT_EQUAL(rv == APR_SUCCESS, secret != NULL);
    CU_ASSERT_EQUAL(rv == APR_SUCCESS, *perr == NULL);
    return secret;
}

static void one_line_owner_only_is_read(void)
{
    const char *err;
    const char *s = read_back("s3cret pw\n", 10, 0600, &err);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "s3cret pw");
    s = read_back("s3cret\r\n", 8, 0400, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "s3cret");
    s = read_back("no-newline", 10, 0600, &err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "no-newline");
}

static void group_or_others_access_is_refused(void)
{
    static const mode_t modes[] = { 0640, 0604, 0620, 0602, 0610, 0644, 0666 };
    const char *err;
    size_t i;

    for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        CU_ASSERT_PTR_NULL(read_back("s3cret\n", 7, modes[i], &err));
        CU_ASSERT_PTR_NOT_NULL_FATAL(err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, apr_psprintf(tp, "mode %04o", (unsigned int)modes[i])));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "chmod 600"));
        CU_ASSERT_PTR_NULL(strstr(err, "s3cret"));
    }
}

static void another_owner_is_refused(void)
{
    const char *path = secret_file("s3cret\n", 7, 0600);
    const char *secret = (const char *)1, *err = NULL;
    apr_status_t rv = mi_secret_read_file(&secret, &err, path, me() + 1, tp);

    remove_file(path);
    CU_ASSERT_NOT_EQUAL(rv, APR_SUCCESS);
    CU_ASSERT_PTR_NULL(secret);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "owned by"));
}

static void malformed_content_is_refused_without_quoting_it(void)
{
    char big[MI_SECRET_MAX + 1];
    const char *err;

    CU_ASSERT_PTR_NULL(read_back("", 0, 0600, &err));
    CU_ASSERT_PTR_NULL(read_back("\n", 1, 0600, &err));
    CU_ASSERT_PTR_NULL(read_back("s3cret\nsecond\n", 14, 0600, &err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NULL(strstr(err, "s3cret"));
    CU_ASSERT_PTR_NULL(read_back("s3c\0ret\n", 8, 0600, &err));
    CU_ASSERT_PTR_NULL(read_back("s3cret\r", 7, 0600, &err));
    memset(big, 'x', sizeof(big));
    CU_ASSERT_PTR_NULL(read_back(big, sizeof(big), 0600, &err));
    big[MI_SECRET_MAX - 1] = '\n';
    CU_ASSERT_PTR_NOT_NULL(read_back(big, MI_SECRET_MAX, 0600, &err));
}

static void missing_file_and_directory_are_refused(void)
{
    const char *secret = NULL, *err = NULL;
    char *dir = apr_pstrdup(tp, "/tmp/mi-secret-XXXXXX");

    CU_ASSERT_NOT_EQUAL(mi_secret_read_file(&secret, &err, "/nonexistent/db.password", me(), tp),
                        APR_SUCCESS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(err);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "cannot open"));
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    chmod(dir, 0700);
    CU_ASSERT_NOT_EQUAL(mi_secret_read_file(&secret, &err, dir, me(), tp), APR_SUCCESS);
    CU_ASSERT_PTR_NULL(secret);
    rmdir(dir);
}

static void the_secret_is_wiped_with_its_pool(void)
{
    const char *path = secret_file("s3cret\n", 7, 0600);
    const char *secret = NULL, *err = NULL;
    apr_pool_t *sub;
    size_t i;
    int zero = 1;

    apr_pool_create(&sub, tp);
    CU_ASSERT_EQUAL_FATAL(mi_secret_read_file(&secret, &err, path, me(), sub), APR_SUCCESS);
    remove_file(path);
    CU_ASSERT_STRING_EQUAL(secret, "s3cret");
    /* clearing keeps the pool's first block, so the bytes can still be looked at */
    apr_pool_clear(sub);
    for (i = 0; i < 7; i++) {
        zero = zero && secret[i] == '\0';
    }
    CU_ASSERT_TRUE(zero);
    apr_pool_destroy(sub);
}

void add_secret_suite(void)
{
    static CU_TestInfo tests[] = {
        UNIT_TEST(one_line_owner_only_is_read),
        UNIT_TEST(group_or_others_access_is_refused),
        UNIT_TEST(another_owner_is_refused),
        UNIT_TEST(malformed_content_is_refused_without_quoting_it),
        UNIT_TEST(missing_file_and_directory_are_refused),
        UNIT_TEST(the_secret_is_wiped_with_its_pool),
        CU_TEST_INFO_NULL
    };
    unit_add_suite("secret", tests);
}
