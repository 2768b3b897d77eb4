package fetch

import "fmt"

func openDir(target string, o Options) (*Source, error) {
	return nil, fmt.Errorf("dir: not yet")
}
