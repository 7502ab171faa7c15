"""A host-memory stand-in for libcuda and libcublas, for the CUDA runtime tests: "device" memory
is host malloc blocks, the two PTX kernels of `cuda_artifacts.PTX` run as C functions (by name),
gemms follow cuBLAS's documented contract; the libraries count what is live so that leaks show.
Built with cc, against the real cuda.h when it is installed (prototypes checked). Test modules
import the fixtures `stand_in_libraries` and `stand_in` from here."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from strata.runtime.cuda import libcuda as driver_module

FAKE_LIBCUDA = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if __has_include(<cuda.h>)
#include <cuda.h>
#else
typedef int CUresult; typedef int CUdevice; typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext; typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction; typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent; typedef int CUjit_option; typedef int CUdevice_attribute;
typedef int CUfunction_attribute;
enum { CUDA_SUCCESS = 0, CUDA_ERROR_INVALID_VALUE = 1, CUDA_ERROR_INVALID_DEVICE = 101,
       CUDA_ERROR_INVALID_CONTEXT = 201, CUDA_ERROR_INVALID_PTX = 218,
       CUDA_ERROR_INVALID_HANDLE = 400, CUDA_ERROR_NOT_FOUND = 500 };
enum { CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16,
       CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
       CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
       CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97,
       CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8, CU_JIT_ERROR_LOG_BUFFER = 5 };
#endif
int live_memory, live_modules, live_streams, live_events, contexts, launches;
char loaded[8];
static int context;
static double clock_ms;
typedef struct { char name[64]; int shared; } Func;
CUresult cuInit(unsigned int f) { return CUDA_SUCCESS; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return CUDA_SUCCESS; }
CUresult cuDeviceGetCount(int *c) { *c = 1; return CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice *d, int o) { *d = 0; return o ? CUDA_ERROR_INVALID_DEVICE : 0; }
CUresult cuDeviceGetName(char *n, int len, CUdevice d) { snprintf(n, len, "Stand-in"); return 0; }
CUresult cuDeviceGetAttribute(int *v, CUdevice_attribute a, CUdevice d) {
  switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; return 0;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; return 0;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 132; return 0;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = 232448; return 0;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *c, CUdevice d) {
  contexts++; *c = (CUcontext)&context; return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice d) {
  return contexts-- > 0 ? 0 : CUDA_ERROR_INVALID_CONTEXT;
}
CUresult cuCtxSetCurrent(CUcontext c) {
  return c == (CUcontext)&context ? 0 : CUDA_ERROR_INVALID_CONTEXT;
}
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuModuleLoadDataEx(CUmodule *m, const void *image, unsigned int n, CUjit_option *o,
                            void **v) {
  if (!memcmp(image, "\x7f" "ELF", 4)) strcpy(loaded, "cubin");
  else if (strstr(image, ".version")) strcpy(loaded, "ptx");
  else {
    for (unsigned i = 0; i < n; i++)
      if (o[i] == CU_JIT_ERROR_LOG_BUFFER) strcpy((char *)v[i], "ptxas fatal: not PTX");
    return CUDA_ERROR_INVALID_PTX;
  }
  *m = (CUmodule)malloc(1); live_modules++; return 0;
}
CUresult cuModuleGetFunction(CUfunction *f, CUmodule m, const char *name) {
  if (strcmp(name, "scale_add") && strcmp(name, "fill_i64")) return CUDA_ERROR_NOT_FOUND;
  Func *fn = calloc(1, sizeof(Func)); strncpy(fn->name, name, 63); *f = (CUfunction)fn;
  return 0;
}
CUresult cuModuleUnload(CUmodule m) { free(m); live_modules--; return 0; }
CUresult cuFuncSetAttribute(CUfunction f, CUfunction_attribute a, int v) {
  if (a != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) return CUDA_ERROR_INVALID_VALUE;
  ((Func *)f)->shared = v; return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) {
  void *q = malloc(n); memset(q, 0xAB, n); *p = (CUdeviceptr)q; live_memory++; return 0;
}
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)p); live_memory--; return 0; }
CUresult cuMemcpyHtoD_v2(CUdeviceptr d, const void *s, size_t n) {
  memcpy((void *)d, s, n); return 0;
}
#define ON_STREAM if (!st) return CUDA_ERROR_INVALID_HANDLE
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, CUstream st) {
  ON_STREAM; memcpy((void *)d, s, n); return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, CUstream st) {
  ON_STREAM; memcpy(d, (void *)s, n); return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) {
  ON_STREAM; memcpy((void *)d, (void *)s, n); return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream st) {
  ON_STREAM; memset((void *)d, v, n); return 0;
}
CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                        unsigned by, unsigned bz, unsigned shared, CUstream st, void **p,
                        void **extra) {
  Func *fn = (Func *)f;
  ON_STREAM;
  if (shared > 48 * 1024 && (int)shared > fn->shared) return CUDA_ERROR_INVALID_VALUE;
  launches++;
  long threads = (long)gx * gy * gz * bx * by * bz;
  if (!strcmp(fn->name, "scale_add")) {
    float *x = *(float **)p[0], *y = *(float **)p[1], a = *(float *)p[3], b = *(float *)p[4];
    for (long i = 0; i < threads && i < *(int *)p[2]; i++) y[i] = a * x[i] + b;
  } else {
    long long *out = *(long long **)p[0];
    for (long i = 0; i < threads && i < *(int *)p[2]; i++) out[i] = *(long long *)p[1];
  }
  return 0;
}
CUresult cuStreamCreate(CUstream *s, unsigned int f) {
  *s = (CUstream)malloc(1); live_streams++; return 0;
}
CUresult cuStreamDestroy_v2(CUstream s) { free(s); live_streams--; return 0; }
CUresult cuStreamSynchronize(CUstream s) { return 0; }
CUresult cuEventCreate(CUevent *e, unsigned int f) {
  *e = (CUevent)calloc(1, sizeof(double)); live_events++; return 0;
}
CUresult cuEventDestroy_v2(CUevent e) { free(e); live_events--; return 0; }
CUresult cuEventRecord(CUevent e, CUstream s) {
  clock_ms += 0.25; *(double *)e = clock_ms; return 0;
}
CUresult cuEventSynchronize(CUevent e) { return 0; }
CUresult cuEventElapsedTime_v2(float *ms, CUevent a, CUevent b) {
  *ms = (float)(*(double *)b - *(double *)a); return 0;
}
CUresult cuGetErrorName(CUresult e, const char **s) {
  *s = e == CUDA_ERROR_INVALID_PTX ? "CUDA_ERROR_INVALID_PTX" : "CUDA_ERROR_OTHER"; return 0;
}
CUresult cuGetErrorString(CUresult e, const char **s) { *s = "stand-in error"; return 0; }
"""

FAKE_LIBCUBLAS = r"""
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
int handles, gemms, batched;
typedef struct { void *stream; } Handle;
int cublasCreate_v2(Handle **h) { *h = calloc(1, sizeof(Handle)); handles++; return 0; }
int cublasDestroy_v2(Handle *h) { free(h); handles--; return 0; }
int cublasSetStream_v2(Handle *h, void *s) { h->stream = s; return 0; }
int cublasGetVersion_v2(Handle *h, int *v) { *v = 130101; return 0; }
const char *cublasGetStatusName(int s) { return "CUBLAS_STATUS_INVALID_VALUE"; }
const char *cublasGetStatusString(int s) { return "an invalid value was used as an argument"; }
static float load(const void *p, long i, int t) {
  if (t == 0) return ((const float *)p)[i];
  if (t == 2) return (float)((const _Float16 *)p)[i];
  uint32_t bits = (uint32_t)((const uint16_t *)p)[i] << 16; float f; memcpy(&f, &bits, 4);
  return f;
}
static void store(void *p, long i, int t, float v) {
  if (t == 0) { ((float *)p)[i] = v; return; }
  if (t == 2) { ((_Float16 *)p)[i] = (_Float16)v; return; }
  uint32_t b; memcpy(&b, &v, 4);
  ((uint16_t *)p)[i] = (uint16_t)((b + 0x7FFF + ((b >> 16) & 1)) >> 16);
}
#define MAX1(x) ((x) > 1 ? (x) : 1)
static int gemm(Handle *h, int ta, int tb, int m, int n, int k, const float *alpha,
                const void *A, int at, int lda, long long sa, const void *B, int bt, int ldb,
                long long sb, const float *beta, void *C, int ct, int ldc, long long sc,
                int count, int compute) {
  if (!h->stream || (compute != 68 && compute != 77) || at != bt) return 7;
  if (lda < (ta ? MAX1(k) : MAX1(m)) || ldb < (tb ? MAX1(n) : MAX1(k)) || ldc < MAX1(m)) return 7;
  for (int p = 0; p < count; p++)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        float acc = 0;
        for (int l = 0; l < k; l++)
          acc += load(A, p * sa + (ta ? l + (long)i * lda : i + (long)l * lda), at) *
                 load(B, p * sb + (tb ? j + (long)l * ldb : l + (long)j * ldb), bt);
        long ic = p * sc + i + (long)j * ldc;
        store(C, ic, ct, *alpha * acc + (*beta != 0 ? *beta * load(C, ic, ct) : 0));
      }
  return 0;
}
int cublasGemmEx(Handle *h, int ta, int tb, int m, int n, int k, const float *alpha,
                 const void *A, int at, int lda, const void *B, int bt, int ldb,
                 const float *beta, void *C, int ct, int ldc, int compute, int algo) {
  gemms++;
  return gemm(h, ta, tb, m, n, k, alpha, A, at, lda, 0, B, bt, ldb, 0, beta, C, ct, ldc, 0, 1,
              compute);
}
int cublasGemmStridedBatchedEx(Handle *h, int ta, int tb, int m, int n, int k,
                               const float *alpha, const void *A, int at, int lda, long long sa,
                               const void *B, int bt, int ldb, long long sb, const float *beta,
                               void *C, int ct, int ldc, long long sc, int count, int compute,
                               int algo) {
  batched++;
  return gemm(h, ta, tb, m, n, k, alpha, A, at, lda, sa, B, bt, ldb, sb, beta, C, ct, ldc, sc,
              count, compute);
}
"""


@pytest.fixture(scope="session")
def stand_in_libraries(tmp_path_factory) -> tuple[Path, Path]:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler for the driver stand-in")
    folder = tmp_path_factory.mktemp("stand_in")
    paths = []
    for name, source in (("libcuda.so.1", FAKE_LIBCUDA), ("libcublas.so.13", FAKE_LIBCUBLAS)):
        (folder / f"{name}.c").write_text(source)
        command = [compiler, "-shared", "-fPIC", "-O1", "-o", str(folder / name)]
        command += ["-I/usr/local/cuda/include", str(folder / f"{name}.c")]
        built = subprocess.run(command, capture_output=True, text=True)
        if built.returncode != 0:
            pytest.skip(f"cannot build the driver stand-in: {built.stderr[-300:]}")
        paths.append(folder / name)
    return paths[0], paths[1]


class StandIn:
    def __init__(self, libcuda: Path, libcublas: Path):
        import ctypes

        self.cuda, self.cublas = ctypes.CDLL(str(libcuda)), ctypes.CDLL(str(libcublas))

    def count(self, name: str) -> int:
        import ctypes

        for lib in (self.cuda, self.cublas):
            try:
                return ctypes.c_int.in_dll(lib, name).value
            except ValueError:
                continue
        raise KeyError(name)

    def live(self) -> dict[str, int]:
        names = ("live_memory", "live_modules", "live_streams", "live_events", "contexts")
        return {name: self.count(name) for name in (*names, "handles")}

    def loaded(self) -> str:
        import ctypes

        return (ctypes.c_char * 8).in_dll(self.cuda, "loaded").value.decode()


@pytest.fixture
def stand_in(stand_in_libraries, monkeypatch) -> StandIn:
    libcuda, libcublas = stand_in_libraries
    monkeypatch.setattr(driver_module, "LIBCUDA", str(libcuda))  # what Driver() loads
    monkeypatch.setattr(driver_module, "_driver", None)
    monkeypatch.setenv("STRATA_CUBLAS", str(libcublas))
    return StandIn(libcuda, libcublas)
