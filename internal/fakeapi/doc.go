// Package fakeapi stands in for the services layerscan's --verify asks
// whether a secret is live, for tests of how often it asks: a local HTTP
// server that accepts only the fake GitHub token of internal/testimage
// and counts the tries, and a pkg/verify Verifier pointed at it.
package fakeapi
