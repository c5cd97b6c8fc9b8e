# The tesuji GPU worker image: an AWS Deep Learning Base GPU AMI (NVIDIA driver, several
# CUDA versions) plus a KataGo release build, a network, the tesuji binary, a KataGo config
# tuned for the instance type, the tesuji-worker systemd unit and a TensorRT cache filled by
# a warm-up run. `make ami` (packer/ami.sh) runs the build; packer/README.md explains it.
#
# The template stays within what Packer 1.6.6 parses, because CI validates it with Debian's
# packer: no required_plugins, no data blocks, no metadata_options (ami.sh requires IMDSv2
# on the finished AMI instead). It names no subnet, security group or credential: Packer
# uses the default VPC, a temporary security group and key pair, and the caller's AWS
# credentials from the environment.

variable "region" {
  type        = string
  default     = "us-east-1"
  description = "AWS region to build in; the AMI is registered there."
}

variable "instance_type" {
  type        = string
  default     = "g4dn.xlarge"
  description = "Build instance type. The KataGo config and the TensorRT cache are made for its GPU, so build on the family the fleet launches."
}

variable "volume_size" {
  type        = number
  default     = 100
  description = "Root volume size in GiB; at least the base AMI's snapshot size."
}

variable "volume_throughput" {
  type        = number
  default     = 125
  description = "gp3 throughput in MiB/s (125 is gp3's included baseline)."
}

variable "volume_iops" {
  type        = number
  default     = 3000
  description = "gp3 IOPS (3000 is gp3's included baseline)."
}

variable "base_ami_name" {
  type        = string
  default     = "Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04) *"
  description = "Name filter for the base image; the newest match owned by base_ami_owner is used."
}

variable "base_ami_owner" {
  type        = string
  default     = "amazon"
  description = "Owner of the base image."
}

variable "cuda_version" {
  type        = string
  default     = "12.8"
  description = "CUDA version the KataGo build needs; the base image must ship /usr/local/cuda-<version>."
}

variable "tensorrt_version" {
  type        = string
  default     = "10.9.0.34-1+cuda12.8"
  description = "Version of NVIDIA's libnvinfer10 apt package matching the KataGo TensorRT build."
}

variable "katago_version" {
  type        = string
  default     = "v1.17.2"
  description = "KataGo release tag."
}

variable "katago_build" {
  type        = string
  default     = "trt10.9.0-cuda12.8"
  description = "KataGo release flavour, as in katago-<version>-<build>-linux-x64.zip."
}

variable "katago_url" {
  type        = string
  default     = ""
  description = "KataGo release zip; empty means the GitHub release named by katago_version and katago_build."
}

variable "katago_sha256" {
  type        = string
  description = "sha256 of the KataGo release zip. KataGo publishes none: see packer/README.md."

  validation {
    condition     = length(var.katago_sha256) == 64 && regex_replace(var.katago_sha256, "[0-9a-f]", "") == ""
    error_message = "The katago_sha256 value must be 64 lower-case hex digits."
  }
}

variable "network_url" {
  type        = string
  default     = "https://media.katagotraining.org/uploaded/networks/models/kata1/kata1-b28c512nbt-s12674021632-d5782420041.bin.gz"
  description = "KataGo network (.bin.gz) installed as /opt/katago/model.bin.gz."
}

variable "network_sha256" {
  type        = string
  description = "sha256 of the network file: see packer/README.md."

  validation {
    condition     = length(var.network_sha256) == 64 && regex_replace(var.network_sha256, "[0-9a-f]", "") == ""
    error_message = "The network_sha256 value must be 64 lower-case hex digits."
  }
}

variable "tesuji_binary" {
  type        = string
  description = "The tesuji binary for linux/amd64, built by make (packer/ami.sh passes it)."
}

variable "ami_name_prefix" {
  type        = string
  default     = "tesuji-worker"
  description = "AMI names are <prefix>-<UTC timestamp>."
}

variable "ssh_source_cidrs" {
  type        = list(string)
  default     = ["0.0.0.0/0"]
  description = "Who may reach the build instance's SSH port through the temporary security group; ami.sh narrows it to the caller's address."
}

variable "warmup_timeout" {
  type        = number
  default     = 1800
  description = "Seconds the warm-up analysis (TensorRT tuning included) may take."
}

locals {
  stamp      = formatdate("YYYYMMDD-hhmmss", timestamp())
  katago_url = var.katago_url != "" ? var.katago_url : "https://github.com/lightvector/KataGo/releases/download/${var.katago_version}/katago-${var.katago_version}-${var.katago_build}-linux-x64.zip"
  build_dir  = "/var/tmp/tesuji-build"
  tags = {
    "Name"                 = "${var.ami_name_prefix}-${local.stamp}"
    "tesuji:role"          = "worker"
    "tesuji:katago"        = "${var.katago_version}-${var.katago_build}"
    "tesuji:network"       = basename(var.network_url)
    "tesuji:instance-type" = var.instance_type
  }
}

source "amazon-ebs" "worker" {
  region        = var.region
  instance_type = var.instance_type

  source_ami_filter {
    filters = {
      name                = var.base_ami_name
      architecture        = "x86_64"
      virtualization-type = "hvm"
      root-device-type    = "ebs"
    }
    owners      = [var.base_ami_owner]
    most_recent = true
  }

  launch_block_device_mappings {
    device_name           = "/dev/sda1"
    volume_size           = var.volume_size
    volume_type           = "gp3"
    throughput            = var.volume_throughput
    iops                  = var.volume_iops
    delete_on_termination = true
  }

  ami_name        = "${var.ami_name_prefix}-${local.stamp}"
  ami_description = "tesuji GPU worker: KataGo ${var.katago_version} (${var.katago_build}), ${basename(var.network_url)}, tuned for ${var.instance_type}"
  tags            = local.tags
  snapshot_tags   = local.tags
  run_tags = {
    "Name"        = "${var.ami_name_prefix}-build"
    "tesuji:role" = "image-build"
  }

  communicator                          = "ssh"
  ssh_username                          = "ubuntu"
  ssh_timeout                           = "15m"
  ssh_clear_authorized_keys             = true
  temporary_security_group_source_cidrs = var.ssh_source_cidrs

  # Snapshotting a 100 GiB root volume can outlast the default wait.
  aws_polling {
    delay_seconds = 30
    max_attempts  = 120
  }
}

build {
  sources = ["source.amazon-ebs.worker"]

  provisioner "shell" {
    inline = ["mkdir -p ${local.build_dir}/scripts"]
  }

  provisioner "file" {
    source      = "${path.root}/scripts/"
    destination = "${local.build_dir}/scripts/"
  }

  provisioner "file" {
    source      = "${path.root}/tesuji-worker.service"
    destination = "${local.build_dir}/tesuji-worker.service"
  }

  provisioner "file" {
    source      = var.tesuji_binary
    destination = "${local.build_dir}/tesuji"
  }

  provisioner "shell" {
    environment_vars = [
      "TESUJI_BUILD_DIR=${local.build_dir}",
      "TESUJI_INSTANCE_TYPE=${var.instance_type}",
      "TESUJI_CUDA_VERSION=${var.cuda_version}",
      "TESUJI_TENSORRT_VERSION=${var.tensorrt_version}",
      "TESUJI_KATAGO_URL=${local.katago_url}",
      "TESUJI_KATAGO_SHA256=${var.katago_sha256}",
      "TESUJI_NETWORK_URL=${var.network_url}",
      "TESUJI_NETWORK_SHA256=${var.network_sha256}",
      "TESUJI_WARMUP_TIMEOUT=${var.warmup_timeout}",
    ]
    execute_command = "chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}"
    inline = [
      "bash ${local.build_dir}/scripts/provision.sh",
      "rm -rf ${local.build_dir}",
    ]
  }
}
