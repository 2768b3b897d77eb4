package main

import "github.com/spf13/pflag"

// outputOptions are the flags about how results are written and gated.
type outputOptions struct{}

func (o *outputOptions) register(f *pflag.FlagSet) {}
