// Package flagdefaults gives the flags of a cobra command defaults from
// the environment (PREFIX_FLAG_NAME) and from a YAML file of flag names
// (--config-file, PREFIX_CONFIG_FILE, or ~/.config/NAME/config.yaml):
// flag > environment > config file > built-in default. An unknown key or
// a bad value is an error.
package flagdefaults
