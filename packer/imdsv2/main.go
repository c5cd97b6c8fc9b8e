// Command imdsv2 marks an AMI as requiring IMDSv2: instances launched from it get
// HttpTokens=required by default, so their instance metadata service answers only requests
// that carry a session token. packer/ami.sh runs it on the worker image it has just built,
// because the Packer version CI validates the template with (1.6.6) has no way to set the
// AMI's imds_support or the build instance's metadata options.
//
// Usage:
//
//	imdsv2 [-region REGION] AMI_ID
//
// Credentials, region and endpoint come from the usual AWS configuration (environment,
// shared config, instance profile); -region overrides the region.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// imdsV2Only is the ImdsSupport value that makes IMDSv2 the default for launched instances.
const imdsV2Only = "v2.0"

var amiID = regexp.MustCompile(`^ami-[0-9a-f]{8,17}$`)

// run parses the command line, loads the AWS configuration and requires IMDSv2 on the AMI.
func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("imdsv2", flag.ContinueOnError)
	fs.SetOutput(stderr)
	region := fs.String("region", "", "AWS region of the AMI (default: from the AWS configuration)")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("imdsv2: %w", err)
	}
	if fs.NArg() != 1 || !amiID.MatchString(fs.Arg(0)) {
		return fmt.Errorf("imdsv2: usage: imdsv2 [-region REGION] AMI_ID (got %q)", fs.Args())
	}
	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return fmt.Errorf("imdsv2: load aws configuration: %w", err)
	}
	return requireIMDSv2(ctx, ec2.NewFromConfig(cfg), fs.Arg(0))
}

// imageAttributes is the part of the EC2 API that requireIMDSv2 uses.
type imageAttributes interface {
	ModifyImageAttribute(ctx context.Context, in *ec2.ModifyImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.ModifyImageAttributeOutput, error)
	DescribeImageAttribute(ctx context.Context, in *ec2.DescribeImageAttributeInput, optFns ...func(*ec2.Options)) (*ec2.DescribeImageAttributeOutput, error)
}

// requireIMDSv2 sets the AMI's ImdsSupport to v2.0 and reads it back, so that a call EC2
// accepted but did not apply is still an error. AWS does not let the setting be undone,
// and setting it again is harmless.
func requireIMDSv2(ctx context.Context, api imageAttributes, ami string) error {
	_, err := api.ModifyImageAttribute(ctx, &ec2.ModifyImageAttributeInput{
		ImageId:     aws.String(ami),
		ImdsSupport: &types.AttributeValue{Value: aws.String(imdsV2Only)},
	})
	if err != nil {
		return fmt.Errorf("imdsv2: set imds support of %s: %w", ami, err)
	}
	out, err := api.DescribeImageAttribute(ctx, &ec2.DescribeImageAttributeInput{
		ImageId:   aws.String(ami),
		Attribute: types.ImageAttributeNameImdsSupport,
	})
	if err != nil {
		return fmt.Errorf("imdsv2: read imds support of %s: %w", ami, err)
	}
	if out.ImdsSupport == nil || aws.ToString(out.ImdsSupport.Value) != imdsV2Only {
		got := "unset"
		if out.ImdsSupport != nil {
			got = aws.ToString(out.ImdsSupport.Value)
		}
		return fmt.Errorf("imdsv2: %s reports imds support %q after the change, want %q", ami, got, imdsV2Only)
	}
	return nil
}
