/* app.h - the application: what every handler can reach, and the handlers.
 *
 * One `app` is shared by all server threads; everything in it is either
 * read-only after app_init or guarded by its own lock. Handlers find it in
 * req->ctx and the authenticated caller (a store_principal) in req->who.
 */
#ifndef OC_APP_H
#define OC_APP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "domain/duty.h"
#include "domain/workflow.h"
#include "http/ratelimit.h"
#include "store/store.h"

/* Who may call a route; each level includes the ones below it. */
typedef enum {
    ACCESS_PUBLIC = 0, /* anyone */
    ACCESS_STAFF,      /* any role: administrator, caseworker, analyst */
    ACCESS_WRITER,     /* administrator or caseworker */
    ACCESS_ADMIN,      /* administrator */
} access_level;

#define APP_HISTORY_SLOTS 64
#define APP_HISTORY_CASES 500
#define APP_HISTORY_TTL_S 300

/* Recent completion times of one service, cached because every public
 * look-up needs them and they change slowly. */
typedef struct app_history {
    int64_t service_id;
    int64_t loaded_at;
    int64_t *durations; /* sorted ascending, heap-owned */
    size_t n;
} app_history;

#define APP_SERVICE_SLOTS 256
#define APP_SERVICE_TTL_S 10

/* A service with its workflow parsed and its organisation's name, shared
 * read-only by the requests that hold a reference to it. Cached because every
 * case response needs them; other instances' edits show within the TTL. */
typedef struct app_service {
    arena mem; /* owns everything below */
    int refs;  /* guarded by app.services_lock */
    int64_t loaded_at;
    bool from_replica; /* may lag the primary: public readers only */
    store_service svc;
    workflow wf;
    duty_list duties;
    const char *org_name;
} app_service;

#define APP_MOVE_SLOTS 64

/* One organisation's plain moves to one stage (app_plain_moves). */
typedef struct app_moves {
    int64_t org_id; /* 0: an empty slot */
    int64_t loaded_at;
    char stage[WF_CODE_MAX + 1];
    store_move_from *from; /* heap: one block with the stages' text */
    size_t n;
} app_moves;

#define APP_KEY_SLOTS 64
#define APP_KEY_LABEL_MAX 255

/* A valid API key's principal, kept for AUTH_KEY_CACHE_SECONDS (auth.c):
 * most requests with a key then cost no round trip to the database. */
typedef struct app_key {
    unsigned char hash[32]; /* the key's keyed hash; all zero: an empty slot */
    int64_t until_ms;       /* monotonic */
    int64_t org_id;
    int64_t key_id;
    char role[16];
    char label[APP_KEY_LABEL_MAX + 1];
} app_key;

/* How long a replica that failed is left alone before it is tried again. */
#define APP_REPLICA_RETRY_MS 1000

typedef struct app {
    store *store;                  /* the primary: every write, and every staff read */
    store *replica;                /* a hot standby for public reads, or NULL; set after app_init */
    atomic_llong replica_retry_at; /* monotonic ms; the replica is skipped before it */
    unsigned char key[32];         /* the deployment's key for token hashes */
    ratelimit *limits;
    bool cookie_secure;   /* mark the session cookie Secure (behind HTTPS) */
    char dummy_hash[128]; /* verified against when a log-in names no account */
    pthread_mutex_t history_lock;
    app_history history[APP_HISTORY_SLOTS];
    pthread_mutex_t services_lock;
    app_service *services[APP_SERVICE_SLOTS];
    pthread_mutex_t moves_lock;
    app_moves moves[APP_MOVE_SLOTS];
    pthread_mutex_t keys_lock;
    app_key keys[APP_KEY_SLOTS];
    /* Citizens see the names of the staff and systems that read their data,
     * not only their organisation and role. Set after app_init. */
    bool show_officer_names;
    /* Notifications: the settings (NULL: none, so channels that need them
     * are not offered) and the delivery worker to wake after writing one
     * (NULL: none runs here). Set after app_init. */
    const struct notify_config *notify;
    struct notify_worker *notifier;
    /* The appeals map's tile server: a URL template with {z}, {x} and {y}
     * (or "none" for no tiles), and its attribution. Set after app_init. */
    const char *map_tiles;
    const char *map_attribution;
} app;

int app_init(app *a, store *s, bool cookie_secure);
void app_free(app *a);

/* The route table's dispatcher (http_dispatch_fn). */
void app_dispatch(void *ctx, http_req *req, http_res *res);

/* Seconds since the epoch: the system's clock, or the test clock. */
int64_t app_now(void);

/* Reads the time from the file at `path` (decimal seconds since the epoch)
 * whenever app_now is called, so that black-box tests can move time on; a
 * file that cannot be read gives the system's clock. Only for tests: the
 * server refuses it unless it listens on a loopback address. Call before
 * serving; `path` must outlive the server. */
void app_use_test_clock(const char *path);

/* Where one read goes. A public read starts on the replica, when there is
 * one and it has not just failed, and falls back to the primary:
 *
 *     app_reader rd;
 *     app_read_begin(ap, true, &rd);
 *     do
 *         rc = store_case_get(rd.s, ...);
 *     while (app_read_again(&rd, rc));
 *
 * Staff reads and writes use the primary alone, so that staff always see
 * what they have just written. */
typedef struct app_reader {
    app *ap;
    store *s;
} app_reader;

void app_read_begin(app *ap, bool public_read, app_reader *r);
/* True when the call that answered rc on the replica is to be repeated on
 * r->s, now the primary: the replica failed (it is then left alone for
 * APP_REPLICA_RETRY_MS), or it lacks the row, which it may not have received
 * yet. */
bool app_read_again(app_reader *r, store_rc rc);
/* Whether r reads from the replica. */
bool app_read_on_replica(const app_reader *r);

/* Copies the service's sorted recent durations into `a`; *n may be 0. They
 * are read from the replica when public_read. */
int app_service_history(app *ap, arena *a, int64_t service_id, bool public_read, int64_t **out,
                        size_t *n);
/* The service with this id, valid until the request's arena is freed.
 * Returns STORE_ERROR when the stored workflow cannot be read. */
store_rc app_service_get(app *ap, arena *a, int64_t service_id, const app_service **out);
/* The same for a public read, which may be served from the replica. */
store_rc app_service_read(app *ap, arena *a, int64_t service_id, bool public_read,
                          const app_service **out);
/* Forgets a cached service (after it was changed). */
void app_service_forget(app *ap, int64_t service_id);

/* Whether the service's move from `from` to `to` is plain: `to` is neither a
 * milestone nor closing and opens no duty, and the workflow allows it. Such
 * a move writes nothing but itself: no notification, no duty, no closing. */
bool app_move_is_plain(const app_service *e, const char *from, const char *to);

/* The moves to stage `to` that store_case_move may make for the
 * organisation's cases: for each of its services, the stages from which a
 * move to `to` is plain (app_move_is_plain) by the service as cached now;
 * (*services)[i] is from[i]'s service, held like app_service_get's. Both
 * arrays are in `a`; *n may be 0. Which pairs there are is remembered as
 * long as services are. */
store_rc app_plain_moves(app *ap, arena *a, int64_t org_id, const char *to,
                         const store_move_from **from, const app_service ***services, size_t *n);

/* Forgets a service's cached history (after one of its cases closes). */
void app_history_forget(app *ap, int64_t service_id);

#endif
