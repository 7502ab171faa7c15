/* Strata's oneDNN shim: 2-D convolution on plain NCHW / OIHW f32 buffers.
 *
 * Strata's `onednn.conv2d` library function (python/strata/libraries/onednn.py) emits one call
 * of `strata_onednn_conv2d` per `libcall.conv2d`. The shim creates the oneDNN primitive once per
 * problem (shapes, attributes, thread count) and caches it, with the reorders between the plain
 * layouts and the layouts oneDNN prefers, so a repeated call only executes.
 *
 * Constant weights (model weights) are reordered once: the caller passes a nonzero `weights_id`
 * that identifies their contents (Strata passes a hash of the constant), and the reorder is cached
 * under it. Not the address: a JIT module freed and another compiled can put different weights at
 * the same address. Weights with id 0 are reordered on every call.
 *
 * Every function returns 0 on success or a nonzero dnnl_status_t; nothing aborts. The calls are
 * serialized by one lock (the primitives already use every thread).
 */

#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))

/* The problem: shapes and attributes as strata_onednn_conv2d takes them, then the thread count
 * (oneDNN partitions the work when it creates a primitive). */
enum { KEY_SIZE = 19 };

typedef struct {
    int64_t id;
    dnnl_memory_t memory; /* the weights in the primitive's layout (owns its buffer) */
} cached_weights;

typedef struct problem {
    int64_t key[KEY_SIZE];
    dnnl_primitive_t conv;
    dnnl_primitive_t src_reorder, weights_reorder, dst_reorder; /* NULL when layouts match */
    dnnl_memory_t user_src, user_weights, user_dst;           /* plain layouts, no buffer */
    dnnl_memory_t src, weights, dst;                          /* the primitive's layouts */
    cached_weights *constant_weights;
    size_t n_constant_weights, capacity;
    struct problem *next;
} problem;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static dnnl_engine_t engine;
static dnnl_stream_t stream;
static problem *problems;
/* How src/dst layouts are chosen: PLAIN keeps NCHW (oneDNN then runs its im2col + GEMM
 * convolution), ANY lets oneDNN pick (blocked nChw16c: direct/brgemm kernels, with reorders of
 * src and dst on every call), AUTO is ANY except for 1x1 kernels, where the reorders cost more
 * than the blocked kernel saves (measured on ResNet-18's shapes: see native/onednn/README.md). */
enum { LAYOUT_PLAIN = 0, LAYOUT_ANY = 1, LAYOUT_AUTO = 2 };
static int layout_mode = LAYOUT_AUTO;

static dnnl_status_t ensure_engine(void) {
    dnnl_status_t s = dnnl_success;
    if (!engine) {
        s = dnnl_engine_create(&engine, dnnl_cpu, 0);
        if (s != dnnl_success) return s;
    }
    if (!stream) s = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
    return s;
}

static void destroy_problem(problem *p) {
    for (size_t i = 0; i < p->n_constant_weights; i++)
        dnnl_memory_destroy(p->constant_weights[i].memory);
    free(p->constant_weights);
    dnnl_primitive_t prims[] = {p->conv, p->src_reorder, p->weights_reorder, p->dst_reorder};
    for (size_t i = 0; i < sizeof prims / sizeof *prims; i++)
        if (prims[i]) dnnl_primitive_destroy(prims[i]);
    dnnl_memory_t mems[] = {p->user_src, p->user_weights, p->user_dst, p->src, p->weights, p->dst};
    for (size_t i = 0; i < sizeof mems / sizeof *mems; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    free(p);
}

/* A reorder from `from` to `to` when they differ (NULL otherwise). */
static dnnl_status_t make_reorder(
        const_dnnl_memory_desc_t from, const_dnnl_memory_desc_t to, dnnl_primitive_t *reorder) {
    *reorder = NULL;
    if (dnnl_memory_desc_equal(from, to)) return dnnl_success;
    dnnl_primitive_desc_t pd;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, NULL);
    if (s != dnnl_success) return s;
    s = dnnl_primitive_create(reorder, pd);
    dnnl_primitive_desc_destroy(pd);
    return s;
}

/* A memory object for `md` that owns its buffer (the library allocates it). */
static dnnl_status_t make_owned(const_dnnl_memory_desc_t md, dnnl_memory_t *memory) {
    return dnnl_memory_create(memory, md, engine, DNNL_MEMORY_ALLOCATE);
}

static dnnl_status_t create_problem(const int64_t *k, problem **out) {
    const int64_t n = k[0], c = k[1], h = k[2], w = k[3], o = k[4], kh = k[5], kw = k[6],
                  oh = k[7], ow = k[8], sh = k[9], sw = k[10], pt = k[11], pl = k[12],
                  pb = k[13], pr = k[14], dh = k[15], dw = k[16], groups = k[17];
    if (n < 1 || c < 1 || h < 1 || w < 1 || o < 1 || kh < 1 || kw < 1 || oh < 1 || ow < 1
            || sh < 1 || sw < 1 || pt < 0 || pl < 0 || pb < 0 || pr < 0 || dh < 1 || dw < 1
            || groups < 1 || c % groups || o % groups)
        return dnnl_invalid_arguments;
    problem *p = calloc(1, sizeof *p);
    if (!p) return dnnl_out_of_memory;
    memcpy(p->key, k, sizeof p->key);

    const dnnl_dims_t src_dims = {n, c, h, w}, dst_dims = {n, o, oh, ow};
    const dnnl_dims_t weights_dims = {groups, o / groups, c / groups, kh, kw};
    const int weights_ndims = groups == 1 ? 4 : 5;
    const int64_t *wd = groups == 1 ? weights_dims + 1 : weights_dims;
    const dnnl_dims_t strides = {sh, sw}, dilates = {dh - 1, dw - 1};
    const dnnl_dims_t padding_l = {pt, pl}, padding_r = {pb, pr};
    const dnnl_format_tag_t weights_tag = groups == 1 ? dnnl_oihw : dnnl_goihw;
    const int plain = layout_mode == LAYOUT_PLAIN || (layout_mode == LAYOUT_AUTO && kh * kw == 1);
    const dnnl_format_tag_t data_any = plain ? dnnl_nchw : dnnl_format_tag_any;

    dnnl_memory_desc_t user_src_md = NULL, user_weights_md = NULL, user_dst_md = NULL;
    dnnl_memory_desc_t src_any = NULL, weights_any = NULL, dst_any = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t s;
#define CHECK(call)                                                                            \
    do {                                                                                       \
        s = (call);                                                                            \
        if (s != dnnl_success) goto done;                                                      \
    } while (0)
    CHECK(dnnl_memory_desc_create_with_tag(&user_src_md, 4, src_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_create_with_tag(&user_dst_md, 4, dst_dims, dnnl_f32, dnnl_nchw));
    CHECK(dnnl_memory_desc_create_with_tag(
            &user_weights_md, weights_ndims, wd, dnnl_f32, weights_tag));
    CHECK(dnnl_memory_desc_create_with_tag(&src_any, 4, src_dims, dnnl_f32, data_any));
    CHECK(dnnl_memory_desc_create_with_tag(&dst_any, 4, dst_dims, dnnl_f32, data_any));
    CHECK(dnnl_memory_desc_create_with_tag(
            &weights_any, weights_ndims, wd, dnnl_f32, dnnl_format_tag_any));
    CHECK(dnnl_convolution_forward_primitive_desc_create(&pd, engine, dnnl_forward_inference,
            dnnl_convolution_direct, src_any, weights_any, NULL, dst_any, strides, dilates,
            padding_l, padding_r, NULL));
    CHECK(dnnl_primitive_create(&p->conv, pd));

    const_dnnl_memory_desc_t src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const_dnnl_memory_desc_t weights_md
            = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const_dnnl_memory_desc_t dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    CHECK(dnnl_memory_create(&p->user_src, user_src_md, engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&p->user_weights, user_weights_md, engine, DNNL_MEMORY_NONE));
    CHECK(dnnl_memory_create(&p->user_dst, user_dst_md, engine, DNNL_MEMORY_NONE));
    CHECK(make_reorder(user_src_md, src_md, &p->src_reorder));
    CHECK(make_reorder(user_weights_md, weights_md, &p->weights_reorder));
    CHECK(make_reorder(dst_md, user_dst_md, &p->dst_reorder));
    /* The primitive's own buffers where its layout differs; otherwise it uses the caller's. */
    if (p->src_reorder) CHECK(make_owned(src_md, &p->src));
    if (p->weights_reorder) CHECK(make_owned(weights_md, &p->weights));
    if (p->dst_reorder) CHECK(make_owned(dst_md, &p->dst));
done:
#undef CHECK
    if (pd) dnnl_primitive_desc_destroy(pd);
    dnnl_memory_desc_t mds[] = {
            user_src_md, user_weights_md, user_dst_md, src_any, weights_any, dst_any};
    for (size_t i = 0; i < sizeof mds / sizeof *mds; i++)
        if (mds[i]) dnnl_memory_desc_destroy(mds[i]);
    if (s != dnnl_success) {
        destroy_problem(p);
        return s;
    }
    *out = p;
    return dnnl_success;
}

static dnnl_status_t find_problem(const int64_t *key, problem **out) {
    for (problem *p = problems; p; p = p->next)
        if (!memcmp(p->key, key, sizeof p->key)) {
            *out = p;
            return dnnl_success;
        }
    dnnl_status_t s = create_problem(key, out);
    if (s == dnnl_success) {
        (*out)->next = problems;
        problems = *out;
    }
    return s;
}

static dnnl_status_t execute(dnnl_primitive_t prim, int nargs, const dnnl_exec_arg_t *args) {
    return dnnl_primitive_execute(prim, stream, nargs, args);
}

static dnnl_status_t reorder(dnnl_primitive_t prim, dnnl_memory_t from, dnnl_memory_t to) {
    const dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return execute(prim, 2, args);
}

/* The weights memory the convolution reads: the caller's buffer, a reorder of it into the
 * problem's buffer, or (constant weights) the cached reorder for `id`. */
static dnnl_status_t weights_memory(
        problem *p, const float *weights, int64_t id, dnnl_memory_t *out) {
    dnnl_status_t s = dnnl_memory_set_data_handle(p->user_weights, (void *)weights);
    if (s != dnnl_success) return s;
    if (!p->weights_reorder) {
        *out = p->user_weights;
        return dnnl_success;
    }
    if (id == 0) {
        *out = p->weights;
        return reorder(p->weights_reorder, p->user_weights, p->weights);
    }
    for (size_t i = 0; i < p->n_constant_weights; i++)
        if (p->constant_weights[i].id == id) {
            *out = p->constant_weights[i].memory;
            return dnnl_success;
        }
    if (p->n_constant_weights == p->capacity) {
        size_t capacity = p->capacity ? 2 * p->capacity : 4;
        cached_weights *grown = realloc(p->constant_weights, capacity * sizeof *grown);
        if (!grown) return dnnl_out_of_memory;
        p->constant_weights = grown;
        p->capacity = capacity;
    }
    const_dnnl_memory_desc_t md;
    dnnl_memory_t memory;
    if ((s = dnnl_memory_get_memory_desc(p->weights, &md)) != dnnl_success) return s;
    if ((s = make_owned(md, &memory)) != dnnl_success) return s;
    if ((s = reorder(p->weights_reorder, p->user_weights, memory)) != dnnl_success
            || (s = dnnl_stream_wait(stream)) != dnnl_success) {
        dnnl_memory_destroy(memory);
        return s;
    }
    p->constant_weights[p->n_constant_weights++] = (cached_weights){id, memory};
    *out = memory;
    return dnnl_success;
}

static dnnl_status_t run(problem *p, const float *src, const float *weights, float *dst,
        int64_t weights_id) {
    dnnl_memory_t src_mem = p->user_src, dst_mem = p->user_dst, weights_mem;
    dnnl_status_t s;
    if ((s = dnnl_memory_set_data_handle(p->user_src, (void *)src)) != dnnl_success) return s;
    if ((s = dnnl_memory_set_data_handle(p->user_dst, dst)) != dnnl_success) return s;
    if ((s = weights_memory(p, weights, weights_id, &weights_mem)) != dnnl_success) return s;
    if (p->src_reorder) {
        src_mem = p->src;
        if ((s = reorder(p->src_reorder, p->user_src, p->src)) != dnnl_success) return s;
    }
    if (p->dst_reorder) dst_mem = p->dst;
    const dnnl_exec_arg_t args[] = {
            {DNNL_ARG_SRC, src_mem}, {DNNL_ARG_WEIGHTS, weights_mem}, {DNNL_ARG_DST, dst_mem}};
    if ((s = execute(p->conv, 3, args)) != dnnl_success) return s;
    if (p->dst_reorder && (s = reorder(p->dst_reorder, p->dst, p->user_dst)) != dnnl_success)
        return s;
    return dnnl_stream_wait(stream);
}

/* dst[n, o, oh, ow] = conv2d(src[n, c, h, w], weights[o, c / groups, kh, kw]) with PyTorch's
 * semantics: padding (top, left, bottom, right) with zeros, dilation 1 = dense. All buffers are
 * contiguous f32. `weights_id`: nonzero when the weights are constant, equal ids meaning equal
 * weights (their reorder is cached under it); 0 otherwise. */
EXPORT int strata_onednn_conv2d(const float *src, const float *weights, float *dst, int64_t n,
        int64_t c, int64_t h, int64_t w, int64_t o, int64_t kh, int64_t kw, int64_t oh,
        int64_t ow, int64_t stride_h, int64_t stride_w, int64_t pad_top, int64_t pad_left,
        int64_t pad_bottom, int64_t pad_right, int64_t dilation_h, int64_t dilation_w,
        int64_t groups, int64_t weights_id) {
    const int64_t key[KEY_SIZE] = {n, c, h, w, o, kh, kw, oh, ow, stride_h, stride_w, pad_top,
            pad_left, pad_bottom, pad_right, dilation_h, dilation_w, groups, omp_get_max_threads()};
    pthread_mutex_lock(&lock);
    problem *p = NULL;
    dnnl_status_t s = ensure_engine();
    if (s == dnnl_success) s = find_problem(key, &p);
    if (s == dnnl_success) s = run(p, src, weights, dst, weights_id);
    pthread_mutex_unlock(&lock);
    return (int)s;
}

/* Threads of oneDNN's OpenMP runtime (the one libdnnl.so.3 was bound to when it was loaded). */
EXPORT int strata_onednn_set_num_threads(int n) {
    if (n < 1) return dnnl_invalid_arguments;
    omp_set_num_threads(n);
    return dnnl_success;
}

EXPORT int strata_onednn_get_max_threads(void) { return omp_get_max_threads(); }

static void clear_locked(void) {
    while (problems) {
        problem *next = problems->next;
        destroy_problem(problems);
        problems = next;
    }
}

/* Frees every cached primitive and reordered weights. */
EXPORT int strata_onednn_clear_cache(void) {
    pthread_mutex_lock(&lock);
    clear_locked();
    pthread_mutex_unlock(&lock);
    return dnnl_success;
}

/* The src/dst layout policy (LAYOUT_*, default AUTO), for measurements. Clears the cache. */
EXPORT int strata_onednn_set_layout_mode(int mode) {
    if (mode != LAYOUT_PLAIN && mode != LAYOUT_ANY && mode != LAYOUT_AUTO)
        return dnnl_invalid_arguments;
    pthread_mutex_lock(&lock);
    layout_mode = mode;
    clear_locked();
    pthread_mutex_unlock(&lock);
    return dnnl_success;
}

/* The implementation oneDNN chose for a problem (for measurements), or NULL. */
EXPORT const char *strata_onednn_implementation(int64_t n, int64_t c, int64_t h, int64_t w,
        int64_t o, int64_t kh, int64_t kw, int64_t oh, int64_t ow, int64_t stride_h, int64_t stride_w,
        int64_t pad_top, int64_t pad_left, int64_t pad_bottom, int64_t pad_right,
        int64_t dilation_h, int64_t dilation_w, int64_t groups) {
    const int64_t key[KEY_SIZE] = {n, c, h, w, o, kh, kw, oh, ow, stride_h, stride_w, pad_top,
            pad_left, pad_bottom, pad_right, dilation_h, dilation_w, groups, omp_get_max_threads()};
    const char *name = NULL;
    pthread_mutex_lock(&lock);
    problem *p = NULL;
    if (ensure_engine() == dnnl_success && find_problem(key, &p) == dnnl_success) {
        const_dnnl_primitive_desc_t pd;
        if (dnnl_primitive_get_primitive_desc(p->conv, &pd) == dnnl_success)
            dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    }
    pthread_mutex_unlock(&lock);
    return name;
}
