// Package faultproxy is an HTTP reverse proxy for tests that sits in front
// of a real registry and injects the faults registries and networks have:
// 5xx answers, 429 with Retry-After, connections reset mid-body, stalls,
// and bodies cut short. Which request is faulted is decided by a hash of
// the seed, the request and how many times it was seen, so a run is
// deterministic whatever order concurrent requests arrive in.
package faultproxy
