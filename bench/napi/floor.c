/*
 * The Node-API floor of the iomux benchmark: the same wait calls as the C floor, reached from
 * JavaScript through the thinnest Node-API functions there can be (plain C node_api.h, no
 * argument checks, the fd set built once). What these cost over the C floor is what any addon
 * pays to be called from JS; iomux's own calls are measured against them.
 *
 * Built with the project (binding.gyp / CMakeLists.txt target napi_floor, into
 * build/Release/bench/) and loaded only by the bench (bench/napi.ts), never by the library.
 *
 *   setup(fds: Int32Array, out: Int32Array)  builds the epoll set, the pollfd array and the fd
 *       list once (replacing any previous set); `out` is kept as the fixed buffer the fixed-
 *       buffer calls copy the ready fds into.
 *   epollWait(timeoutMs) -> n     epoll_wait into a native buffer, fds copied to `out`
 *   epollWaitInto(arr, timeoutMs) -> n   epoll_wait straight into arr (struct epoll_event
 *       records: 3 int32 each on x86-64 where the struct is packed, 4 elsewhere; fd first data word)
 *   pollWait(timeoutMs) -> n      poll over the fixed pollfd array, ready fds copied to `out`
 *   selectWait(timeoutMs) -> n    select over a bitmap rebuilt from the fd list (as any select
 *       caller must), ready fds copied to `out`
 *   eventWords() -> int32 words per struct epoll_event (0 without epoll)
 *   teardown()                    closes the epoll fd and frees the set
 * The state lives in the module instance's data (one per Node environment, so workers do not
 * share it). Misuse (a wait before setup) returns -1; this is a measuring tool, not an API.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

typedef struct {
  int *fds;
  int n;
  int maxfd;
  struct pollfd *pfds;
  unsigned long *set;
  size_t words;
  int32_t *out; /* the fixed buffer, a JS Int32Array kept alive by `out_ref` */
  size_t out_len;
  napi_ref out_ref;
#ifdef __linux__
  int ep;
  struct epoll_event *evs;
  int maxevents;
#endif
} floor_state;

static void clear(napi_env env, floor_state *s) {
#ifdef __linux__
  if (s->ep >= 0) close(s->ep);
  free(s->evs);
  s->evs = NULL;
  s->ep = -1;
#endif
  free(s->fds);
  free(s->pfds);
  free(s->set);
  s->fds = NULL;
  s->pfds = NULL;
  s->set = NULL;
  s->n = 0;
  if (s->out_ref) napi_delete_reference(env, s->out_ref);
  s->out_ref = NULL;
  s->out = NULL;
}

static floor_state *state(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  return (floor_state *)data;
}

static napi_value int32(napi_env env, int32_t v) {
  napi_value r;
  napi_create_int32(env, v, &r);
  return r;
}

static int32_t *array_data(napi_env env, napi_value v, size_t *len) {
  napi_typedarray_type type;
  void *data = NULL;
  napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL);
  return (int32_t *)data;
}

static napi_value setup(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  floor_state *s = state(env);
  clear(env, s);
  size_t n = 0;
  int32_t *fds = array_data(env, argv[0], &n);
  s->out = array_data(env, argv[1], &s->out_len);
  napi_create_reference(env, argv[1], 1, &s->out_ref);
  s->n = (int)n;
  s->fds = malloc(sizeof(int) * (n ? n : 1));
  s->pfds = calloc(n ? n : 1, sizeof(struct pollfd));
  s->maxfd = 0;
  for (size_t i = 0; i < n; i++) {
    s->fds[i] = fds[i];
    s->pfds[i].fd = fds[i];
    s->pfds[i].events = POLLIN;
    if (fds[i] > s->maxfd) s->maxfd = fds[i];
  }
  const size_t bits = 8 * sizeof(unsigned long);
  s->words = (size_t)s->maxfd / bits + 1;
  if (s->words * bits < FD_SETSIZE) s->words = FD_SETSIZE / bits;
  s->set = calloc(s->words, sizeof(unsigned long));
#ifdef __linux__
  s->ep = epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < n; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fds[i]};
    epoll_ctl(s->ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  s->maxevents = n < 1024 ? 1024 : (int)n;
  s->evs = calloc((size_t)s->maxevents, sizeof(struct epoll_event));
#endif
  return NULL;
}

static int32_t timeout_arg(napi_env env, napi_callback_info info, napi_value *first) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  int32_t t = 0;
  napi_get_value_int32(env, argv[first ? 1 : 0], &t);
  if (first) *first = argv[0];
  return t;
}

#ifdef __linux__
static napi_value epoll_wait_fixed(napi_env env, napi_callback_info info) {
  int32_t t = timeout_arg(env, info, NULL);
  floor_state *s = state(env);
  if (!s->evs) return int32(env, -1);
  int r = epoll_wait(s->ep, s->evs, s->maxevents, t);
  for (int i = 0; i < r && (size_t)i < s->out_len; i++) s->out[i] = s->evs[i].data.fd;
  return int32(env, r);
}

static napi_value epoll_wait_into(napi_env env, napi_callback_info info) {
  napi_value arr;
  int32_t t = timeout_arg(env, info, &arr);
  floor_state *s = state(env);
  size_t len = 0;
  int32_t *data = array_data(env, arr, &len);
  if (s->ep < 0 || !data) return int32(env, -1);
  int max = (int)(len * sizeof(int32_t) / sizeof(struct epoll_event));
  return int32(env, epoll_wait(s->ep, (struct epoll_event *)data, max, t));
}
#endif

static napi_value poll_wait(napi_env env, napi_callback_info info) {
  int32_t t = timeout_arg(env, info, NULL);
  floor_state *s = state(env);
  if (!s->pfds) return int32(env, -1);
  int r = poll(s->pfds, (nfds_t)s->n, t);
  int got = 0;
  for (int i = 0; i < s->n && got < r; i++)
    if (s->pfds[i].revents && (size_t)got < s->out_len) s->out[got++] = s->pfds[i].fd;
  return int32(env, r < 0 ? r : got);
}

static napi_value select_wait(napi_env env, napi_callback_info info) {
  int32_t t = timeout_arg(env, info, NULL);
  floor_state *s = state(env);
  if (!s->set) return int32(env, -1);
  const size_t bits = 8 * sizeof(unsigned long);
  memset(s->set, 0, s->words * sizeof(unsigned long));
  for (int i = 0; i < s->n; i++) s->set[s->fds[i] / bits] |= 1UL << (s->fds[i] % bits);
  struct timeval tv = {t / 1000, (t % 1000) * 1000};
  int r = select(s->maxfd + 1, (fd_set *)s->set, NULL, NULL, &tv);
  if (r < 0) return int32(env, r);
  int got = 0;
  for (int i = 0; i < s->n; i++)
    if ((s->set[s->fds[i] / bits] & (1UL << (s->fds[i] % bits))) && (size_t)got < s->out_len) s->out[got++] = s->fds[i];
  return int32(env, got);
}

static napi_value event_words(napi_env env, napi_callback_info info) {
  (void)info;
#ifdef __linux__
  return int32(env, (int32_t)(sizeof(struct epoll_event) / sizeof(int32_t)));
#else
  return int32(env, 0);
#endif
}

static napi_value teardown(napi_env env, napi_callback_info info) {
  (void)info;
  clear(env, state(env));
  return NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  floor_state *s = (floor_state *)data;
  clear(env, s);
  free(s);
}

static napi_value init(napi_env env, napi_value exports) {
  floor_state *s = calloc(1, sizeof(floor_state));
#ifdef __linux__
  s->ep = -1;
#endif
  napi_set_instance_data(env, s, finalize, NULL);
  napi_property_descriptor props[] = {
    {"setup", NULL, setup, NULL, NULL, NULL, napi_default, NULL},
#ifdef __linux__
    {"epollWait", NULL, epoll_wait_fixed, NULL, NULL, NULL, napi_default, NULL},
    {"epollWaitInto", NULL, epoll_wait_into, NULL, NULL, NULL, napi_default, NULL},
#endif
    {"pollWait", NULL, poll_wait, NULL, NULL, NULL, napi_default, NULL},
    {"selectWait", NULL, select_wait, NULL, NULL, NULL, napi_default, NULL},
    {"eventWords", NULL, event_words, NULL, NULL, NULL, napi_default, NULL},
    {"teardown", NULL, teardown, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
