package fleet

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// WorkerEnvPath is the file the user data writes and the systemd unit
// tesuji-worker.service loads (EnvironmentFile=-/etc/tesuji/worker.env).
const WorkerEnvPath = "/etc/tesuji/worker.env"

// UserDataConfig is what the launch template's user data tells a worker instance.
// Nothing in it is secret: user data is readable by anyone who can describe the
// launch template, and from the instance's metadata service.
type UserDataConfig struct {
	// Region is the AWS region of the SSM parameter, written as AWS_REGION. Required.
	Region string
	// Parameter is the SSM SecureString that holds the secret settings (TESUJI_REDIS),
	// written as TESUJI_SSM_PARAMETER. Default DefaultParameter ("/tesuji/worker").
	Parameter string
	// Env holds further settings for worker.env, such as TESUJI_LOG_FORMAT or
	// TESUJI_GPUS. Default none. Keys that name a secret (TESUJI_REDIS, or anything with
	// PASSWORD, SECRET, TOKEN or a KEY) are refused: they belong in the parameter.
	Env map[string]string
}

var (
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	parameterRE = regexp.MustCompile(`^[A-Za-z0-9_.\-/]+$`)
	envKeyRE    = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	// envValueRE keeps values free of anything a shell or an env-file reader would
	// interpret: no quotes, spaces, '$', '#' or newlines.
	envValueRE = regexp.MustCompile(`^[A-Za-z0-9_.,:/@+=\-]*$`)
)

// secretKey reports whether an environment variable's name says it holds a secret.
func secretKey(k string) bool {
	if k == "TESUJI_REDIS" || k == "AWS_ACCESS_KEY_ID" || k == "AWS_SESSION_TOKEN" {
		return true
	}
	for _, word := range []string{"PASSWORD", "SECRET", "TOKEN", "KEY", "CREDENTIAL"} {
		if strings.Contains(k, word) {
			return true
		}
	}
	return false
}

// UserData renders the launch template's user data: a shell script, run once by
// cloud-init at first boot, that writes WorkerEnvPath and (re)starts the worker, which
// then reads its secrets from the SSM parameter through the instance profile. Encode
// it with base64 for the launch template's UserData field.
func UserData(cfg UserDataConfig) (string, error) {
	if cfg.Parameter == "" {
		cfg.Parameter = DefaultParameter
	}
	var errs []error
	if !regionRE.MatchString(cfg.Region) {
		errs = append(errs, fmt.Errorf("region %q is not an AWS region name", cfg.Region))
	}
	if !parameterRE.MatchString(cfg.Parameter) || len(cfg.Parameter) > 1011 {
		errs = append(errs, fmt.Errorf("parameter %q is not an SSM parameter name", cfg.Parameter))
	}
	env := map[string]string{
		"TESUJI_SSM_PARAMETER": cfg.Parameter,
		"AWS_REGION":           cfg.Region,
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Env)) {
		v := cfg.Env[k]
		switch {
		case !envKeyRE.MatchString(k):
			errs = append(errs, fmt.Errorf("env key %q is not upper-case letters, digits and '_'", k))
		case secretKey(k):
			errs = append(errs, fmt.Errorf("env %s looks like a secret: put it in the SSM parameter", k))
		case env[k] != "":
			errs = append(errs, fmt.Errorf("env %s is set by the user data itself", k))
		case !envValueRE.MatchString(v):
			errs = append(errs, fmt.Errorf("env %s: the value may hold letters, digits and _.,:/@+=- only", k))
		default:
			env[k] = v
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%w: user data: %w", ErrConfig, errors.Join(errs...))
	}

	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString("# tesuji worker: where to find its settings. No secret here: the worker reads them\n")
	b.WriteString("# from the SSM parameter below with its instance profile.\n")
	b.WriteString("set -eu\n")
	b.WriteString("install -d -m 0755 /etc/tesuji\n")
	fmt.Fprintf(&b, "cat > %s <<'TESUJI_ENV'\n", WorkerEnvPath)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		fmt.Fprintf(&b, "%s=%s\n", k, env[k])
	}
	b.WriteString("TESUJI_ENV\n")
	fmt.Fprintf(&b, "chmod 0644 %s\n", WorkerEnvPath)
	b.WriteString("systemctl daemon-reload\n")
	b.WriteString("systemctl enable tesuji-worker.service\n")
	b.WriteString("systemctl restart tesuji-worker.service\n")
	return b.String(), nil
}
