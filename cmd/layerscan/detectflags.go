package main

import "github.com/spf13/pflag"

// detectOptions are the flags about what counts as a finding.
type detectOptions struct{}

func (o *detectOptions) register(f *pflag.FlagSet) {}
