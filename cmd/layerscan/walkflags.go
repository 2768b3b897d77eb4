package main

import "github.com/spf13/pflag"

// walkOptions are the flags about how layers and files are read.
type walkOptions struct{}

func (o *walkOptions) register(f *pflag.FlagSet) {}
