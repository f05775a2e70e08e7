// CStrataDispatch is header-only (include/CStrataDispatch.h): its handlers are compiled into
// the Strata module, which imports the header. SwiftPM needs a source file in a C target.
typedef int strata_dispatch_translation_unit_is_not_empty;
