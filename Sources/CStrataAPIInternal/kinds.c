// (A C target needs a source file: this one holds nothing. The target exists so that the C
// API's internal header stays out of the installable include/ folder of CStrataAPI.)
