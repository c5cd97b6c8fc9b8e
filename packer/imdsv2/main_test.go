package main

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/tesuji/tesuji/packer/internal/fakeec2"
)

// newClient returns the real EC2 client pointed at a fake endpoint holding the given AMIs.
func newClient(t *testing.T, fake *fakeec2.Server) *ec2.Client {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return ec2.New(ec2.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(srv.URL),
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 1,
	})
}

func TestRequireIMDSv2(t *testing.T) {
	t.Parallel()
	const ami = "ami-0123456789abcdef0"
	tests := []struct {
		name      string
		ami       string
		drop      bool
		wantErr   string
		wantCode  string
		wantCalls []fakeec2.Call
		wantValue string
	}{
		{
			name: "sets and reads back",
			ami:  ami,
			wantCalls: []fakeec2.Call{
				{Action: "ModifyImageAttribute", ImageID: ami, Value: "v2.0"},
				{Action: "DescribeImageAttribute", ImageID: ami, Value: "imdsSupport"},
			},
			wantValue: "v2.0",
		},
		{
			name:     "unknown AMI",
			ami:      "ami-00000000000000000",
			wantErr:  "imdsv2: set imds support of ami-00000000000000000",
			wantCode: "InvalidAMIID.NotFound",
			wantCalls: []fakeec2.Call{
				{Action: "ModifyImageAttribute", ImageID: "ami-00000000000000000", Value: "v2.0"},
			},
		},
		{
			name:    "accepted but not applied",
			ami:     ami,
			drop:    true,
			wantErr: `reports imds support "unset" after the change`,
			wantCalls: []fakeec2.Call{
				{Action: "ModifyImageAttribute", ImageID: ami, Value: "v2.0"},
				{Action: "DescribeImageAttribute", ImageID: ami, Value: "imdsSupport"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := fakeec2.New(ami)
			if tt.drop {
				fake.DropModify()
			}
			err := requireIMDSv2(context.Background(), newClient(t, fake), tt.ami)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("requireIMDSv2: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("requireIMDSv2 error = %v, want one containing %q", err, tt.wantErr)
			}
			if tt.wantCode != "" {
				var apiErr smithy.APIError
				if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.wantCode {
					t.Errorf("error %v does not carry the API error code %s", err, tt.wantCode)
				}
			}
			if diff := cmp.Diff(tt.wantCalls, fake.Calls()); diff != "" {
				t.Errorf("EC2 calls (-want +got):\n%s", diff)
			}
			if got := fake.ImdsSupport(ami); got != tt.wantValue {
				t.Errorf("ImdsSupport of %s = %q, want %q", ami, got, tt.wantValue)
			}
		})
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "no AMI", args: nil, want: "usage"},
		{name: "two AMIs", args: []string{"ami-0123456789abcdef0", "ami-0123456789abcdef1"}, want: "usage"},
		{name: "not an AMI id", args: []string{"i-0123456789abcdef0"}, want: "usage"},
		{name: "region:ami artifact id", args: []string{"us-east-1:ami-0123456789abcdef0"}, want: "usage"},
		{name: "unknown flag", args: []string{"-zone", "a", "ami-0123456789abcdef0"}, want: "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stderr)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
			}
		})
	}
}
