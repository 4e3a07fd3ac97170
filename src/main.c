/* main.c - the opencase command: settings, subcommands and the server's life.
 *
 * Settings come from flags, then environment variables, then defaults. The
 * server runs until SIGTERM or SIGINT, then stops accepting, lets requests in
 * flight finish, closes the database and exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "api/app.h"
#include "api/auth.h"
#include "api/background.h"
#include "api/log_signer.h"
#include "cli/demo.h"
#include "cli/logkey.h"
#include "cli/logverify.h"
#include "cli/migrate.h"
#include "domain/validate.h"
#include "notify/config.h"
#include "notify/send.h"
#include "notify/worker.h"
#include "store/store.h"
#include "util/log.h"
#include "util/token.h"

#ifndef OPENCASE_VERSION
#define OPENCASE_VERSION "0.1.0"
#endif

typedef struct settings {
    const char *db;
    const char *db_replica; /* NULL: public reads go to the primary too */
    char host[64];
    unsigned short port;
    unsigned threads;
    bool cookie_secure;
    bool access_log;
    bool show_officer_names;
    const char *trusted_proxies;
    const char *log_key;         /* the log's signing key file; NULL: beside the database */
    const char *log_origin;      /* the log's name for a new key; NULL: from the listen host */
    const char *map_tiles;       /* the appeals map's tile URL template, or "none" */
    const char *map_attribution; /* and the credit its tiles need */
    notify_config notify;
} settings;

/* OpenStreetMap's own tiles, as an example that works out of the box; a
 * deployment with real traffic points this at its own tile server, as
 * OpenStreetMap's tile usage policy asks. */
#define MAP_TILES_DEFAULT "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
#define MAP_ATTRIBUTION_DEFAULT "\xc2\xa9 OpenStreetMap contributors"

static const char usage[] =
    "Usage: opencase [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Track cases like parcels: the opencase server and its administration.\n"
    "\n"
    "Commands:\n"
    "  init                      create the database, or migrate it to this version\n"
    "  serve                     serve the API and the public pages\n"
    "  demo [--cases N] [--events N] [--credentials FILE] [--seed N]\n"
    "                            load demonstration organisations, staff, cases, appeals\n"
    "  org create SLUG NAME      create an organisation\n"
    "  user add --org SLUG --email EMAIL --name NAME --role ROLE\n"
    "                            add a staff account; the password is read from\n"
    "                            OPENCASE_PASSWORD or the first line of standard input\n"
    "  key create --org SLUG --label LABEL [--role ROLE]\n"
    "                            create an API key for a system and print it once\n"
    "  key list --org SLUG       list the organisation's keys: id, role, created,\n"
    "                            revoked (or -), label\n"
    "  key revoke --org SLUG --id ID\n"
    "                            revoke a key; running servers refuse it within seconds\n"
    "  log key                   print the public log's verifier key (name+hash+base64)\n"
    "  log verify                check the latest checkpoint, every stored hash and a\n"
    "                            sample of proofs against the log's entries\n"
    "  migrate-store --from PATH --to URI\n"
    "                            copy a deployment into an empty PostgreSQL database and\n"
    "                            verify it by row counts and checksums\n"
    "\n"
    "Options (each also read from the environment variable shown):\n"
    "  --db PATH|URI             SQLite file, or postgresql://user@host:port/db\n"
    "                            (OPENCASE_DB, default opencase.db)\n"
    "  --db-replica URI          a read-only hot standby of the PostgreSQL database for\n"
    "                            public tracking reads; they fall back to --db when it\n"
    "                            fails (OPENCASE_DB_REPLICA)\n"
    "  --listen HOST:PORT        address to serve on (OPENCASE_LISTEN, default 127.0.0.1:8080)\n"
    "  --threads N               worker threads (OPENCASE_THREADS, default 4)\n"
    "  --cookie-secure           mark session cookies Secure, behind HTTPS "
    "(OPENCASE_COOKIE_SECURE=1)\n"
    "  --access-log              log one line per request (OPENCASE_ACCESS_LOG=1)\n"
    "  --trusted-proxies LIST    comma-separated addresses of reverse proxies whose\n"
    "                            X-Forwarded-For names the client (OPENCASE_TRUSTED_PROXIES)\n"
    "  --show-officer-names      show citizens the names of the staff and systems that read\n"
    "                            their data (OPENCASE_SHOW_OFFICER_NAMES=1)\n"
    "  --log-key PATH            the public log's signing key, made by init and readable\n"
    "                            by its owner only (OPENCASE_LOG_KEY, default <db>.logkey;\n"
    "                            required for PostgreSQL)\n"
    "  --log-origin NAME         the log's name, fixed when init makes the key\n"
    "                            (OPENCASE_LOG_ORIGIN, default <listen host>/log)\n"
    "  --map-tiles URL           tile server of the appeals map, with {z}, {x} and {y}, or\n"
    "                            none (OPENCASE_MAP_TILES, default OpenStreetMap's tiles)\n"
    "  --map-attribution TEXT    the credit the tiles need (OPENCASE_MAP_ATTRIBUTION,\n"
    "                            default \"\xc2\xa9 OpenStreetMap contributors\")\n"
    "  -h, --help                show this help (and --help-notify: the notification\n"
    "                            settings)\n"
    "  -V, --version             show the version\n"
    "\n"
    "Roles: administrator, caseworker, analyst.\n";

static int parse_listen(const char *text, settings *s)
{
    const char *colon = strrchr(text, ':');
    if (!colon || colon == text || (size_t)(colon - text) >= sizeof(s->host)) {
        fprintf(stderr, "opencase: --listen must be HOST:PORT, for example 127.0.0.1:8080\n");
        return -1;
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || port < 0 || port > 65535 || end == colon + 1) {
        fprintf(stderr, "opencase: the port in --listen must be a number from 0 to 65535\n");
        return -1;
    }
    const char *host = text;
    size_t len = (size_t)(colon - text);
    if (host[0] == '[' && len >= 2 && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    memcpy(s->host, host, len);
    s->host[len] = '\0';
    s->port = (unsigned short)port;
    return 0;
}

/* A tile URL template for the appeals map: an http(s) URL with {z}, {x} and
 * {y}, or "none" for a map without tiles. */
static int check_map_tiles(const char *url)
{
    if (strcmp(url, "none") == 0)
        return 0;
    bool web = strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0;
    if (!web || !strstr(url, "{z}") || !strstr(url, "{x}") || !strstr(url, "{y}") ||
        strlen(url) > 500 || strpbrk(url, "\"'<> ")) {
        fprintf(stderr, "opencase: --map-tiles must be an http or https URL with {z}, {x} and {y}"
                        ", such as https://tile.example.org/{z}/{x}/{y}.png, or none\n");
        return -1;
    }
    return 0;
}

static int parse_count(const char *what, const char *text, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (errno || *end || end == text || n < min || n > max) {
        fprintf(stderr, "opencase: %s must be a number from %ld to %ld\n", what, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

static bool env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

static int open_store(const settings *s, int pool, store **out)
{
    char err[256];
    if (store_open(s->db, pool, out, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "opencase: cannot open the database %s: %s\n", s->db, err);
        return -1;
    }
    return 0;
}

/* The signing key file's path, from the setting or beside the database. */
static int log_key_path(const settings *s, char *out, size_t len)
{
    if (s->log_key) {
        if (strlen(s->log_key) >= len) {
            fprintf(stderr, "opencase: the --log-key path is too long\n");
            return -1;
        }
        memcpy(out, s->log_key, strlen(s->log_key) + 1);
        return 0;
    }
    if (!logkey_default_path(s->db, out, len))
        return -1;
    return 0;
}

/* Makes the log's signing key unless there is one. */
static int init_log_key(const settings *s)
{
    char path[LOGKEY_PATH_MAX], origin[NOTE_NAME_MAX + 1], err[512];
    if (log_key_path(s, path, sizeof(path)) != 0) {
        printf("no log signing key made: name its file with --log-key (OPENCASE_LOG_KEY) to "
               "sign the public log\n");
        return 0;
    }
    if (s->log_origin)
        snprintf(origin, sizeof(origin), "%s", s->log_origin);
    else
        logkey_default_origin(s->host, origin, sizeof(origin));
    switch (logkey_create(path, origin, err, sizeof(err))) {
    case LOGKEY_OK:
        printf("created the log's signing key %s for the log %s\n", path, origin);
        return 0;
    case LOGKEY_EXISTS:
        return 0;
    default:
        fprintf(stderr, "opencase: cannot create the log's signing key: %s\n", err);
        return -1;
    }
}

static int load_log_key(const settings *s, note_signer *key, logkey_rc *why)
{
    char path[LOGKEY_PATH_MAX], err[512];
    if (log_key_path(s, path, sizeof(path)) != 0) {
        *why = LOGKEY_MISSING;
        return -1;
    }
    *why = logkey_load(path, key, err, sizeof(err));
    if (*why == LOGKEY_OK)
        return 0;
    if (*why != LOGKEY_MISSING)
        fprintf(stderr, "opencase: %s\n", err);
    return -1;
}

static int cmd_init(const settings *s)
{
    store *st;
    if (open_store(s, 1, &st) != 0)
        return 1;
    unsigned char key[32];
    int rc = store_secret_key(st, key) == STORE_OK ? 0 : 1;
    if (rc == 0)
        printf("database %s is at schema version %d\n", s->db, store_schema_version(st));
    store_close(st);
    if (rc == 0 && init_log_key(s) != 0)
        rc = 1;
    return rc;
}

static int cmd_log(const settings *s, int argc, char **argv)
{
    if (argc != 2 || (strcmp(argv[1], "key") != 0 && strcmp(argv[1], "verify") != 0)) {
        fprintf(stderr, "Usage: opencase log key | opencase log verify\n");
        return 2;
    }
    note_signer key;
    note_verifier verifier;
    logkey_rc why;
    if (load_log_key(s, &key, &why) != 0) {
        if (why == LOGKEY_MISSING)
            fprintf(stderr, "opencase: there is no log signing key; opencase init makes one "
                            "(with --log-key for PostgreSQL)\n");
        return 1;
    }
    note_verifier_from_signer(&key, &verifier);
    note_signer_wipe(&key);
    if (strcmp(argv[1], "key") == 0) {
        char text[NOTE_VERIFIER_TEXT_MAX];
        if (note_verifier_format(&verifier, text, sizeof(text)) != NOTE_OK)
            return 1;
        printf("%s\n", text);
        return 0;
    }
    store *st;
    char err[256];
    if (store_open_readonly(s->db, &st, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "opencase: cannot open the database %s: %s\n", s->db, err);
        return 1;
    }
    int rc = log_verify(st, &verifier, stdout, stderr);
    store_close(st);
    return rc;
}

/* Whether the server listens only where no one else can reach it. */
static bool loopback(const char *host)
{
    return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
           strncmp(host, "127.", 4) == 0;
}

static int cmd_serve(const settings *s)
{
    store *st = NULL, *replica = NULL;
    app ap;
    bool app_ready = false;
    http_server *srv = NULL;
    log_signer *signer = NULL;
    notify_worker *notifier = NULL;
    bool curl_ready = false;
    background *bg = NULL;
    int rc = 1;

    /* Block the stop signals in every thread; this one waits for them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The black-box tests move time on to see duties fall due; a server
     * anyone could reach must never run on a clock someone can edit. */
    const char *test_clock = getenv("OPENCASE_TEST_CLOCK_FILE");
    if (test_clock && *test_clock) {
        if (!loopback(s->host)) {
            fprintf(stderr, "opencase: OPENCASE_TEST_CLOCK_FILE is for tests only and is "
                            "refused unless --listen is a loopback address\n");
            goto out;
        }
        app_use_test_clock(test_clock);
        log_warn("msg=\"the clock is read from OPENCASE_TEST_CLOCK_FILE, for tests\"");
    }

    if (notify_config_check(&s->notify) != 0)
        goto out;
    /* A connection for each HTTP thread, the signer, the background threads
     * and each delivery thread. */
    if (open_store(s, (int)s->threads + 1 + BACKGROUND_CONNECTIONS + s->notify.workers, &st) != 0)
        goto out;
    if (app_init(&ap, st, s->cookie_secure) != 0)
        goto out;
    app_ready = true;
    if (!(bg = background_start(st))) {
        log_error("msg=\"cannot start the log's sequencer and the duty sweeper\"");
        goto out;
    }
    /* Without a key the log still grows, but nothing is signed. */
    note_signer key;
    logkey_rc key_rc;
    if (load_log_key(s, &key, &key_rc) == 0) {
        signer = log_signer_new(st, &key);
        note_signer_wipe(&key);
        if (!signer || !log_signer_start(signer)) {
            log_error("msg=\"cannot start the checkpoint signer\"");
            goto out;
        }
    } else if (key_rc == LOGKEY_MISSING) {
        log_warn("msg=\"no log signing key: the public log's checkpoints are not signed; "
                 "opencase init makes the key\"");
    } else {
        goto out;
    }
    ap.notify = &s->notify;
    if (send_global_init() != 0) {
        log_error("msg=\"cannot start libcurl\"");
        goto out;
    }
    curl_ready = true;
    if (s->notify.workers > 0) {
        notifier = notify_worker_start(st, &s->notify);
        if (!notifier)
            goto out;
        ap.notifier = notifier;
    }
    if (s->db_replica) {
        /* A standby that is down at start must not keep the service down:
         * public reads then go to the primary. */
        char err[256];
        if (store_open(s->db_replica, (int)s->threads + 1, &replica, err, sizeof(err)) !=
            STORE_OK) {
            log_warn("msg=\"cannot open the replica; serving without it\" error=\"%s\"", err);
            replica = NULL;
        }
        ap.replica = replica;
    }
    ap.show_officer_names = s->show_officer_names;
    ap.map_tiles = s->map_tiles;
    ap.map_attribution = s->map_attribution;
    http_server_config cfg = {
        .host = s->host,
        .port = s->port,
        .threads = s->threads,
        .dispatch = app_dispatch,
        .ctx = &ap,
        .access_log = s->access_log,
        .trusted_proxies = s->trusted_proxies,
    };
    srv = http_server_start(&cfg);
    if (!srv)
        goto out;
    log_info("msg=\"opencase serving\" listen=%s:%u threads=%u db=\"%s\" replica=%s version=%s",
             s->host, s->port, s->threads, s->db, replica ? "yes" : "no", OPENCASE_VERSION);

    int sig = 0;
    sigwait(&stop, &sig);
    log_info("msg=\"stopping\" signal=%d", sig);
    http_server_stop(srv);
    srv = NULL;
    rc = 0;
out:
    log_signer_free(signer);
    notify_worker_stop(notifier);
    if (curl_ready)
        send_global_cleanup();
    background_stop(bg);
    if (app_ready)
        app_free(&ap);
    store_close(replica);
    store_close(st);
    if (rc == 0)
        log_info("msg=\"stopped cleanly\"");
    return rc;
}

static int cmd_demo(const settings *s, int argc, char **argv)
{
    static const struct option opts[] = {{"cases", required_argument, NULL, 'c'},
                                         {"events", required_argument, NULL, 'e'},
                                         {"credentials", required_argument, NULL, 'f'},
                                         {"seed", required_argument, NULL, 's'},
                                         {NULL, 0, NULL, 0}};
    const char *pw = getenv("OPENCASE_DEMO_PASSWORD");
    demo_options o = {
        .cases = 300, .events = 5, .password = pw && *pw ? pw : "opencase-demo", .seed = 20261123};
    long n;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (parse_count("--cases", optarg, 0, 100000000, &o.cases) != 0)
                return 2;
            break;
        case 'e':
            if (parse_count("--events", optarg, 1, 1000, &n) != 0)
                return 2;
            o.events = (int)n;
            break;
        case 'f':
            o.credentials_path = optarg;
            break;
        case 's':
            if (parse_count("--seed", optarg, 0, 2147483647, &n) != 0)
                return 2;
            o.seed = (unsigned long)n;
            break;
        default:
            return 2;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "opencase: demo takes no arguments besides its options\n");
        return 2;
    }
    store *st;
    if (open_store(s, 1, &st) != 0)
        return 1;
    int rc = demo_load(st, &o, stdout) == 0 ? 0 : 1;
    store_close(st);
    return rc;
}

static int cmd_org(const settings *s, int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[1], "create") != 0) {
        fprintf(stderr, "Usage: opencase org create SLUG NAME\n");
        return 2;
    }
    if (!valid_code(argv[2], 40) || !valid_text(argv[3], 200, false) || !argv[3][0]) {
        fprintf(stderr, "opencase: SLUG must be lower-case letters, digits, '-' or '_' (at most "
                        "40) and NAME 1 to 200 characters\n");
        return 2;
    }
    store *st;
    if (open_store(s, 1, &st) != 0)
        return 1;
    int64_t id;
    store_rc rc = store_org_create(st, argv[2], argv[3], &id);
    store_close(st);
    if (rc == STORE_DUPLICATE) {
        fprintf(stderr, "opencase: an organisation %s already exists\n", argv[2]);
        return 1;
    }
    if (rc != STORE_OK)
        return 1;
    printf("created organisation %s\n", argv[2]);
    return 0;
}

/* --org, --email, --name, --role and --label for the user and key commands. */
typedef struct member_args {
    const char *org, *email, *name, *role, *label, *id;
} member_args;

static int parse_member_args(int argc, char **argv, member_args *m)
{
    static const struct option opts[] = {{"org", required_argument, NULL, 'o'},
                                         {"email", required_argument, NULL, 'e'},
                                         {"name", required_argument, NULL, 'n'},
                                         {"role", required_argument, NULL, 'r'},
                                         {"label", required_argument, NULL, 'l'},
                                         {"id", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    int c;
    memset(m, 0, sizeof(*m));
    optind = 2;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            m->org = optarg;
            break;
        case 'e':
            m->email = optarg;
            break;
        case 'n':
            m->name = optarg;
            break;
        case 'r':
            m->role = optarg;
            break;
        case 'l':
            m->label = optarg;
            break;
        case 'i':
            m->id = optarg;
            break;
        default:
            return -1;
        }
    }
    if (optind != argc)
        return -1;
    if (m->role && strcmp(m->role, "administrator") != 0 && strcmp(m->role, "caseworker") != 0 &&
        strcmp(m->role, "analyst") != 0) {
        fprintf(stderr, "opencase: --role must be administrator, caseworker or analyst\n");
        return -1;
    }
    return 0;
}

static int find_org(store *st, arena *a, const char *slug, store_org *org)
{
    store_rc rc = store_org_by_slug(st, a, slug, org);
    if (rc == STORE_NOT_FOUND)
        fprintf(stderr, "opencase: there is no organisation %s\n", slug);
    return rc == STORE_OK ? 0 : -1;
}

static int read_password(char *out, size_t outlen)
{
    const char *env = getenv("OPENCASE_PASSWORD");
    if (env) {
        if (strlen(env) >= outlen)
            return -1;
        memcpy(out, env, strlen(env) + 1);
    } else {
        if (isatty(STDIN_FILENO))
            fprintf(stderr, "Password: ");
        if (!fgets(out, (int)outlen, stdin))
            return -1;
        out[strcspn(out, "\r\n")] = '\0';
    }
    if (strlen(out) < 10) {
        fprintf(stderr, "opencase: the password must be at least 10 characters\n");
        return -1;
    }
    return 0;
}

static int cmd_user(const settings *s, int argc, char **argv)
{
    member_args m;
    char email[256], password[1024];
    if (argc < 2 || strcmp(argv[1], "add") != 0 || parse_member_args(argc, argv, &m) != 0 ||
        !m.org || !m.email || !m.name || !m.role) {
        fprintf(stderr, "Usage: opencase user add --org SLUG --email EMAIL --name NAME --role "
                        "ROLE\n");
        return 2;
    }
    if (!email_normalise(m.email, email, sizeof(email)) || !valid_text(m.name, 200, false)) {
        fprintf(stderr, "opencase: --email must be an email address and --name plain text\n");
        return 2;
    }
    if (read_password(password, sizeof(password)) != 0)
        return 2;
    store *st;
    if (open_store(s, 1, &st) != 0)
        return 1;
    arena a;
    arena_init(&a);
    store_org org;
    int rc = 1;
    char hash[PASSWORD_HASH_MAX];
    if (find_org(st, &a, m.org, &org) != 0 || !password_hash(password, hash))
        goto out;
    store_user u = {
        .org_id = org.id, .email = email, .name = m.name, .role = m.role, .password_hash = hash};
    store_rc src = store_user_create(st, &u);
    if (src == STORE_DUPLICATE)
        fprintf(stderr, "opencase: a staff account %s already exists\n", email);
    if (src != STORE_OK)
        goto out;
    printf("added %s (%s) to %s\n", email, m.role, org.slug);
    rc = 0;
out:
    arena_free(&a);
    store_close(st);
    return rc;
}

static const char key_usage[] =
    "Usage: opencase key create --org SLUG --label LABEL [--role ROLE]\n"
    "       opencase key list --org SLUG\n"
    "       opencase key revoke --org SLUG --id ID\n";

/* Makes a key for org and prints it, once. */
static int key_create(store *st, const store_org *org, const member_args *m)
{
    unsigned char key[32], hash[TOKEN_HASH_BYTES];
    char token[64];
    int64_t id;
    const char *role = m->role ? m->role : "caseworker";
    if (store_secret_key(st, key) != STORE_OK)
        return 1;
    /* "oc_" marks the string as an opencase key for secret scanners. */
    memcpy(token, "oc_", 3); // NOLINT(bugprone-not-null-terminated-result): token_random ends it
    token_random(token + 3, 48);
    token_hash(key, token, hash);
    sodium_memzero(key, sizeof(key));
    if (store_key_create(st, org->id, m->label, role, hash, &id) != STORE_OK)
        return 1;
    fprintf(stderr, "API key %lld for %s (%s); it is shown only now:\n", (long long)id, org->slug,
            role);
    printf("%s\n", token);
    return 0;
}

static int key_list(store *st, arena *a, const store_org *org)
{
    store_key *keys;
    size_t n;
    if (store_key_list(st, a, org->id, &keys, &n) != STORE_OK)
        return 1;
    for (size_t i = 0; i < n; i++) {
        char created[32], revoked[32] = "-";
        format_datetime(keys[i].created_at, created, sizeof(created));
        if (keys[i].revoked_at)
            format_datetime(keys[i].revoked_at, revoked, sizeof(revoked));
        printf("%lld\t%s\t%s\t%s\t%s\n", (long long)keys[i].id, keys[i].role, created, revoked,
               keys[i].label);
    }
    return 0;
}

static int key_revoke(store *st, const store_org *org, const char *id_text)
{
    char *end;
    errno = 0;
    long long id = strtoll(id_text, &end, 10);
    if (errno || *end || id <= 0) {
        fprintf(stderr, "opencase: --id must be a key's number, as key list shows it\n");
        return 2;
    }
    store_rc rc = store_key_revoke(st, org->id, id, (int64_t)time(NULL));
    if (rc == STORE_NOT_FOUND)
        fprintf(stderr, "opencase: %s has no API key %lld\n", org->slug, id);
    if (rc != STORE_OK)
        return 1;
    fprintf(stderr, "API key %lld of %s is revoked; running servers refuse it within %d seconds\n",
            id, org->slug, AUTH_KEY_CACHE_SECONDS);
    return 0;
}

static int cmd_key(const settings *s, int argc, char **argv)
{
    member_args m;
    const char *what = argc >= 2 ? argv[1] : "";
    bool create = strcmp(what, "create") == 0, revoke = strcmp(what, "revoke") == 0;
    if ((!create && !revoke && strcmp(what, "list") != 0) ||
        parse_member_args(argc, argv, &m) != 0 || !m.org || (create != (m.label != NULL)) ||
        (revoke != (m.id != NULL)) || (!create && m.role) ||
        (m.label && !valid_text(m.label, 100, false)) || m.email || m.name) {
        fputs(key_usage, stderr);
        return 2;
    }
    store *st;
    if (open_store(s, 1, &st) != 0)
        return 1;
    arena a;
    arena_init(&a);
    store_org org;
    int rc = find_org(st, &a, m.org, &org);
    if (rc == 0)
        rc = create   ? key_create(st, &org, &m)
             : revoke ? key_revoke(st, &org, m.id)
                      : key_list(st, &a, &org);
    arena_free(&a);
    store_close(st);
    return rc;
}

int main(int argc, char **argv)
{
    settings s = {.db = "opencase.db",
                  .host = "127.0.0.1",
                  .port = 8080,
                  .threads = 4,
                  .map_tiles = MAP_TILES_DEFAULT,
                  .map_attribution = MAP_ATTRIBUTION_DEFAULT};
    const char *env;
    if ((env = getenv("OPENCASE_DB")) && *env)
        s.db = env;
    if ((env = getenv("OPENCASE_DB_REPLICA")) && *env)
        s.db_replica = env;
    if ((env = getenv("OPENCASE_LISTEN")) && *env && parse_listen(env, &s) != 0)
        return 2;
    if ((env = getenv("OPENCASE_THREADS")) && *env) {
        long n;
        if (parse_count("OPENCASE_THREADS", env, 1, 256, &n) != 0)
            return 2;
        s.threads = (unsigned)n;
    }
    s.cookie_secure = env_flag("OPENCASE_COOKIE_SECURE");
    s.access_log = env_flag("OPENCASE_ACCESS_LOG");
    s.show_officer_names = env_flag("OPENCASE_SHOW_OFFICER_NAMES");
    s.trusted_proxies = getenv("OPENCASE_TRUSTED_PROXIES");
    if ((env = getenv("OPENCASE_LOG_KEY")) && *env)
        s.log_key = env;
    if ((env = getenv("OPENCASE_LOG_ORIGIN")) && *env)
        s.log_origin = env;
    if (notify_config_init(&s.notify) != 0)
        return 2;
    if ((env = getenv("OPENCASE_MAP_TILES")) && *env)
        s.map_tiles = env;
    if ((env = getenv("OPENCASE_MAP_ATTRIBUTION")) && *env)
        s.map_attribution = env;

    /* Global options come before the command; the command parses the rest. */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *opt = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        if (strcmp(opt, "-V") == 0 || strcmp(opt, "--version") == 0) {
            printf("opencase %s\n", OPENCASE_VERSION);
            return 0;
        }
        if (strcmp(opt, "--help-notify") == 0) {
            fputs(notify_config_usage, stdout);
            return 0;
        }
        int used = notify_config_option(&s.notify, opt, val);
        if (used < 0)
            return 2;
        if (used > 0) {
            i += used - 1;
            continue;
        }
        if (strcmp(opt, "--cookie-secure") == 0) {
            s.cookie_secure = true;
            continue;
        }
        if (strcmp(opt, "--access-log") == 0) {
            s.access_log = true;
            continue;
        }
        if (strcmp(opt, "--show-officer-names") == 0) {
            s.show_officer_names = true;
            continue;
        }
        if (!val || (strcmp(opt, "--db") != 0 && strcmp(opt, "--db-replica") != 0 &&
                     strcmp(opt, "--listen") != 0 && strcmp(opt, "--threads") != 0 &&
                     strcmp(opt, "--trusted-proxies") != 0 && strcmp(opt, "--log-key") != 0 &&
                     strcmp(opt, "--log-origin") != 0 && strcmp(opt, "--map-tiles") != 0 &&
                     strcmp(opt, "--map-attribution") != 0)) {
            fprintf(stderr, "opencase: unknown option %s (see opencase --help)\n", opt);
            return 2;
        }
        i++;
        if (strcmp(opt, "--db") == 0) {
            s.db = val;
        } else if (strcmp(opt, "--db-replica") == 0) {
            s.db_replica = *val ? val : NULL;
        } else if (strcmp(opt, "--trusted-proxies") == 0) {
            s.trusted_proxies = val;
        } else if (strcmp(opt, "--log-key") == 0) {
            s.log_key = val;
        } else if (strcmp(opt, "--log-origin") == 0) {
            s.log_origin = val;
        } else if (strcmp(opt, "--map-tiles") == 0) {
            s.map_tiles = val;
        } else if (strcmp(opt, "--map-attribution") == 0) {
            s.map_attribution = val;
        } else if (strcmp(opt, "--listen") == 0) {
            if (parse_listen(val, &s) != 0)
                return 2;
        } else {
            long n;
            if (parse_count("--threads", val, 1, 256, &n) != 0)
                return 2;
            s.threads = (unsigned)n;
        }
    }
    if (i >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    if (check_map_tiles(s.map_tiles) != 0)
        return 2;
    if (!token_init()) {
        fprintf(stderr, "opencase: libsodium could not start\n");
        return 1;
    }
    const char *cmd = argv[i];
    int sub_argc = argc - i;
    char **sub_argv = argv + i;
    if (strcmp(cmd, "init") == 0 && sub_argc == 1)
        return cmd_init(&s);
    if (strcmp(cmd, "serve") == 0 && sub_argc == 1)
        return cmd_serve(&s);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(&s, sub_argc, sub_argv);
    if (strcmp(cmd, "org") == 0)
        return cmd_org(&s, sub_argc, sub_argv);
    if (strcmp(cmd, "user") == 0)
        return cmd_user(&s, sub_argc, sub_argv);
    if (strcmp(cmd, "key") == 0)
        return cmd_key(&s, sub_argc, sub_argv);
    if (strcmp(cmd, "log") == 0)
        return cmd_log(&s, sub_argc, sub_argv);
    if (strcmp(cmd, "migrate-store") == 0)
        return migrate_store_main(sub_argc, sub_argv);
    fprintf(stderr, "opencase: unknown command %s (see opencase --help)\n", cmd);
    return 2;
}
