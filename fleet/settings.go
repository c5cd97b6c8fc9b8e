package fleet

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/tesuji/tesuji/fleet/envfile"
)

// DefaultParameter is the SSM parameter that holds a worker's secret settings.
const DefaultParameter = "/tesuji/worker"

// LoadSettings reads the SSM Parameter Store SecureString name (decrypted with the
// caller's credentials: on a worker, its instance profile) and parses its value as
// env-file lines (see envfile.Parse). A parameter that is not a SecureString is refused:
// the settings hold the Redis password. Errors never quote the value.
//
// `tesuji worker` calls it at start when TESUJI_SSM_PARAMETER is set and applies the
// result under its real environment and flags (see envfile.Getenv). A missing parameter's
// error wraps *ssmtypes.ParameterNotFound.
func LoadSettings(ctx context.Context, cfg aws.Config, name string) (map[string]string, error) {
	if name == "" {
		name = DefaultParameter
	}
	out, err := ssm.NewFromConfig(cfg).GetParameter(ctx, &ssm.GetParameterInput{
		Name:           aws.String(name),
		WithDecryption: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: read ssm parameter %s: %w", name, err)
	}
	p := out.Parameter
	if p == nil || p.Value == nil {
		return nil, fmt.Errorf("fleet: read ssm parameter %s: no value", name)
	}
	if p.Type != ssmtypes.ParameterTypeSecureString {
		return nil, fmt.Errorf("fleet: ssm parameter %s is a %s; it holds secrets and must be a SecureString", name, p.Type)
	}
	settings, err := envfile.Parse(strings.NewReader(*p.Value))
	if err != nil {
		return nil, fmt.Errorf("fleet: ssm parameter %s: %w", name, err)
	}
	return settings, nil
}
