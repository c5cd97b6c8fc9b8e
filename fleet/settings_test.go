package fleet_test

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/fleet"
	"github.com/tesuji/tesuji/fleet/envfile"
	"github.com/tesuji/tesuji/fleet/fleettest"
)

func awsConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "test-secret", ""),
		BaseEndpoint: aws.String(endpoint),
	}
}

const secretValue = "rediss://:hunter2@redis.internal:6380/0"

func TestLoadSettings(t *testing.T) {
	t.Parallel()
	s := fleettest.NewSSMServer(t)
	s.Put("/tesuji/worker", "SecureString", "# worker secrets\nTESUJI_REDIS="+secretValue+"\nTESUJI_LOG_FORMAT=json\n")
	s.Put("/tesuji/plain", "String", "TESUJI_REDIS="+secretValue)
	s.Put("/tesuji/broken", "SecureString", "TESUJI_REDIS=\""+secretValue)
	cfg := awsConfig(s.URL)

	got, err := fleet.LoadSettings(t.Context(), cfg, "/tesuji/worker")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"TESUJI_REDIS": secretValue, "TESUJI_LOG_FORMAT": "json"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]fleettest.GetParameterRequest{{Name: "/tesuji/worker", WithDecryption: true}}, s.Requests()); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	t.Run("default name", func(t *testing.T) {
		t.Parallel()
		if _, err := fleet.LoadSettings(t.Context(), cfg, ""); err != nil {
			t.Errorf("default parameter: %v", err)
		}
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		_, err := fleet.LoadSettings(t.Context(), cfg, "/tesuji/nope")
		var nf *ssmtypes.ParameterNotFound
		if !errors.As(err, &nf) {
			t.Errorf("error = %v, want ParameterNotFound", err)
		}
	})
	t.Run("not a SecureString", func(t *testing.T) {
		t.Parallel()
		_, err := fleet.LoadSettings(t.Context(), cfg, "/tesuji/plain")
		if err == nil || !strings.Contains(err.Error(), "SecureString") {
			t.Errorf("error = %v, want a refusal", err)
		}
	})
	t.Run("syntax error does not leak the value", func(t *testing.T) {
		t.Parallel()
		_, err := fleet.LoadSettings(t.Context(), cfg, "/tesuji/broken")
		if !errors.Is(err, envfile.ErrSyntax) {
			t.Fatalf("error = %v, want ErrEnvSyntax", err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("error quotes the secret: %v", err)
		}
	})
}

func TestUserData(t *testing.T) {
	t.Parallel()
	script, err := fleet.UserData(fleet.UserDataConfig{Region: "eu-central-1", Env: map[string]string{"TESUJI_LOG_FORMAT": "json", "TESUJI_GPUS": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(script, "#!/bin/sh\n") {
		t.Errorf("script does not start with a shebang:\n%s", script)
	}
	// The shell accepts it.
	cmd := exec.Command("sh", "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s\n%s", err, out, script)
	}
	// The heredoc is the env file the worker's unit loads.
	_, body, ok := strings.Cut(script, "<<'TESUJI_ENV'\n")
	body, _, ok2 := strings.Cut(body, "TESUJI_ENV\n")
	if !ok || !ok2 {
		t.Fatalf("no env heredoc in:\n%s", script)
	}
	env, err := envfile.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"TESUJI_SSM_PARAMETER": "/tesuji/worker",
		"AWS_REGION":           "eu-central-1",
		"TESUJI_LOG_FORMAT":    "json",
		"TESUJI_GPUS":          "1",
	}
	if diff := cmp.Diff(want, env); diff != "" {
		t.Errorf("worker.env (-want +got):\n%s", diff)
	}
	for _, line := range []string{"cat > /etc/tesuji/worker.env", "systemctl enable tesuji-worker.service", "systemctl restart tesuji-worker.service"} {
		if !strings.Contains(script, line) {
			t.Errorf("script lacks %q", line)
		}
	}

	bad := []struct {
		name string
		cfg  fleet.UserDataConfig
	}{
		{"no region", fleet.UserDataConfig{}},
		{"bad region", fleet.UserDataConfig{Region: "us-east-1; rm -rf /"}},
		{"bad parameter", fleet.UserDataConfig{Region: "us-east-1", Parameter: "/tesuji/$(id)"}},
		{"secret in env", fleet.UserDataConfig{Region: "us-east-1", Env: map[string]string{"TESUJI_REDIS": secretValue}}},
		{"token in env", fleet.UserDataConfig{Region: "us-east-1", Env: map[string]string{"TESUJI_API_TOKEN": "x"}}},
		{"value with a space", fleet.UserDataConfig{Region: "us-east-1", Env: map[string]string{"TESUJI_GPUS": "1 2"}}},
		{"value with a newline", fleet.UserDataConfig{Region: "us-east-1", Env: map[string]string{"TESUJI_GPUS": "1\nTESUJI_REDIS=x"}}},
		{"lower-case key", fleet.UserDataConfig{Region: "us-east-1", Env: map[string]string{"gpus": "1"}}},
		{"overrides the parameter", fleet.UserDataConfig{Region: "us-east-1", Env: map[string]string{"TESUJI_SSM_PARAMETER": "/x"}}},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := fleet.UserData(tt.cfg); !errors.Is(err, fleet.ErrConfig) {
				t.Errorf("UserData = %v, want ErrConfig", err)
			}
		})
	}
}
