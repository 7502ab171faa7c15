// RUN: strata-opt %s --split-input-file --convert-hwprim-to-nvvm=chip=sm_90 --verify-diagnostics
// RUN: not strata-opt %s --convert-hwprim-to-nvvm=chip=sm90 2>&1 | FileCheck %s --check-prefix=CHIP

// CHIP: invalid value 'sm90' for option 'chip' of 'convert-hwprim-to-nvvm': expected sm_<NN> or sm_<NN>a, e.g. sm_80, sm_90a

// wgmma exists only on sm_90a.
func.func @wgmma_on_sm90() {
  // expected-error@+1 {{'hwprim.wgmma_fence' needs sm_90a (wgmma exists only on Hopper's arch-specific target), but the chip is sm_90}}
  "hwprim.wgmma_fence"() : () -> ()
  return
}
