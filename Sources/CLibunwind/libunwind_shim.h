// libunwind (nongnu, `libunwind-dev`), local unwinding only: the trap handler steps through
// compiled frames with it, using the unwind information Strata registers for its code.
#define UNW_LOCAL_ONLY
#include <libunwind.h>
