// mode=auto times each op a rule would dispatch (generated code against the library call) once,
// caches the result in $STRATA_CACHE_DIR/dispatch.json and says what it chose in a remark at the
// op; the next run reads the cache. Which one wins depends on the machine, so only the remark,
// its location and the cache entry are checked. A corrupt cache is measured around.
// RUN: rm -rf %t && mkdir -p %t
// RUN: env STRATA_CACHE_DIR=%t strata-opt %s --graph-dispatch-libcall=mode=auto --verify-diagnostics
// RUN: FileCheck %s --check-prefix=CACHE < %t/dispatch.json
// RUN: env STRATA_CACHE_DIR=%t strata-opt %s --graph-dispatch-libcall=mode=auto 2>&1 >/dev/null | FileCheck %s --check-prefix=CACHED
// RUN: echo '{"format": 1, "entries": [' > %t/dispatch.json
// RUN: env STRATA_CACHE_DIR=%t strata-opt %s --graph-dispatch-libcall=mode=auto 2>&1 >/dev/null | FileCheck %s --check-prefix=MEASURED
// RUN: FileCheck %s --check-prefix=CACHE < %t/dispatch.json

// CACHE: "graph.matmul(tensor<16x64xf32>, tensor<64x32xf32>) -> (tensor<16x32xf32>) | openblas.sgemm | cpu vector-width={{[0-9]+}} features={{[0-9a-f]+}} | threads={{[0-9]+}}{{.*}}": {
// CACHE-DAG: "choice": "{{library|generated}}"
// CACHE-DAG: "generated_us": {{[0-9.]+}}
// CACHE-DAG: "library_us": {{[0-9.]+}}
// CACHED: auto.mlir:[[@LINE+3]]:8: remark: 'graph.matmul' {{calls openblas.sgemm|stays in generated code}}: openblas.sgemm {{[0-9.]+}} us, generated code {{[0-9.]+}} us (cached)
// MEASURED: auto.mlir:[[@LINE+2]]:8: remark: 'graph.matmul' {{.*}} (measured)
func.func @layer(%x: tensor<16x64xf32>, %w: tensor<64x32xf32>) -> tensor<16x32xf32> {
  %0 = "graph.matmul"(%x, %w) : (tensor<16x64xf32>, tensor<64x32xf32>) -> tensor<16x32xf32>  // expected-remark {{openblas.sgemm}}
  return %0 : tensor<16x32xf32>
}
