// Compiles the precompiled header that every lab's test program reuses (cmake/labs.cmake): the
// fixed headers a lab test includes, so that an edit to a student file rebuilds only what it
// touches.
