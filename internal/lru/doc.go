// Package lru is a least-recently-used cache bounded by the total weight of
// its values (bytes, entries): what a sweep keeps of manifests, configs and
// layer results stays within a budget however large the registry.
package lru
