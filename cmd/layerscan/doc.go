// Command layerscan finds the secrets a container image leaks, in every
// layer — including files deleted or overwritten by later layers — and ties
// each one to the Dockerfile instruction that put it there.
package main
