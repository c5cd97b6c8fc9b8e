package setup

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The pinned KataGo release and network that install downloads. Override them with
// InstallConfig's URLs (the --katago-url and --model-url flags). Their digests are
// pinned in checksums.go.
const (
	KataGoVersion = "v1.16.4"
	releaseBase   = "https://github.com/lightvector/KataGo/releases/download/" + KataGoVersion + "/"
	// ModelURL is KataGo's recommended network for analysis: strong and fast.
	ModelURL = "https://media.katagotraining.org/uploaded/networks/models/kata1/kata1-b18c384nbt-s9996604416-d4316597426.bin.gz"
)

// Backend names a KataGo build.
type Backend string

const (
	BackendAuto     Backend = ""
	BackendCPU      Backend = "cpu"      // Eigen, with AVX2 when the processor has it
	BackendCUDA     Backend = "cuda"     // NVIDIA GPUs with CUDA 12
	BackendTensorRT Backend = "tensorrt" // NVIDIA GPUs with TensorRT: fastest, longest first start
)

// ReleaseURL returns the official release archive for a backend on this platform.
func ReleaseURL(b Backend, goos, goarch string, avx2 bool) (string, error) {
	if goarch != "amd64" {
		return "", fmt.Errorf("setup: KataGo publishes no %s/%s build; build it from source and pass --katago", goos, goarch)
	}
	var os string
	switch goos {
	case "linux":
		os = "linux-x64"
	case "windows":
		os = "windows-x64"
	default:
		return "", fmt.Errorf("setup: KataGo publishes no %s build; install it (e.g. with your package manager) and pass --katago", goos)
	}
	name := ""
	switch b {
	case BackendCPU:
		name = "eigen"
		if avx2 {
			name = "eigenavx2"
		}
	case BackendCUDA:
		name = "cuda12.5-cudnn8.9.7"
	case BackendTensorRT:
		name = "trt10.2.0-cuda12.5"
	default:
		return "", fmt.Errorf("setup: unknown backend %q (want cpu, cuda or tensorrt)", b)
	}
	return releaseBase + "katago-" + KataGoVersion + "-" + name + "-" + os + ".zip", nil
}

// DetectBackend picks CUDA when an NVIDIA GPU answers nvidia-smi, else the CPU build.
func DetectBackend(ctx context.Context) Backend {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "nvidia-smi", "-L").Output(); err == nil && strings.Contains(string(out), "GPU") {
		return BackendCUDA
	}
	return BackendCPU
}

// hasAVX2 reports whether the processor has AVX2 (read from /proc/cpuinfo on Linux;
// assumed on other systems, where every x86-64 machine KataGo supports has it).
func hasAVX2() bool {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOOS != "linux"
	}
	return strings.Contains(string(data), " avx2")
}

// InstallConfig configures Install. The zero value of every field means its default.
type InstallConfig struct {
	// Dir is where KataGo and the network go. Default: Dir().
	Dir string
	// Backend chooses the build. Default: DetectBackend.
	Backend Backend
	// KataGoURL overrides the release archive (a .zip holding the katago binary).
	KataGoURL string
	// KataGoSHA256 is the SHA-256 (hex) the release archive must have; Install refuses
	// any other. Default: the digest pinned for its URL; where none is pinned, it is
	// required.
	KataGoSHA256 string
	// ReleaseAPI is where the digests of the pinned release's archives are read when
	// none is pinned or given (GitHub publishes one per asset). Default: GitHub's API for
	// KataGoVersion.
	ReleaseAPI string
	// ModelURL overrides the network. Default: ModelURL.
	ModelURL string
	// ModelSHA256 is the SHA-256 (hex) the network must have. Default: the digest pinned
	// for its URL (ModelSHA256 for ModelURL); where none is pinned, it is required.
	ModelSHA256 string
	// Force downloads again what is already there.
	Force bool
	// HTTP downloads. Default: http.DefaultClient.
	HTTP *http.Client
	// Progress receives a progress bar (Terminal) or a line per tenth.
	Progress io.Writer
	// Terminal redraws the bar in place.
	Terminal bool
	// Check starts the installed engine once; Install fails if it does not start, and
	// removes the binary, so that it is neither found nor kept by the next Install.
	// Required: the caller passes a function that runs the engine (see cmd/tesuji).
	Check func(ctx context.Context, katago, model string) error
}

// Install downloads KataGo and a network into the cache (skipping what is there unless
// Force) and checks them by starting the engine once, removing a KataGo that does not
// start. It returns their paths.
func Install(ctx context.Context, cfg InstallConfig) (katago, model string, err error) {
	if cfg.Dir == "" {
		if cfg.Dir, err = Dir(); err != nil {
			return "", "", err
		}
	}
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.ModelURL == "" {
		cfg.ModelURL = ModelURL
	}
	if cfg.KataGoURL == "" {
		b := cfg.Backend
		if b == BackendAuto {
			b = DetectBackend(ctx)
		}
		if cfg.KataGoURL, err = ReleaseURL(b, runtime.GOOS, runtime.GOARCH, hasAVX2()); err != nil {
			return "", "", err
		}
	}
	katago = KataGoPath(cfg.Dir)
	if cfg.Force || !isExecutable(katago, runtime.GOOS) {
		given := cfg.KataGoSHA256
		if given == "" && pinnedSHA256[cfg.KataGoURL] == "" && strings.HasPrefix(cfg.KataGoURL, releaseBase) {
			if given, err = cfg.releaseSHA256(ctx, cfg.KataGoURL); err != nil {
				return "", "", err
			}
		}
		sum, err := expectedSHA256(cfg.KataGoURL, given, "KataGo release archive", "--katago-sha256")
		if err != nil {
			return "", "", err
		}
		if err := cfg.installKataGo(ctx, katago, sum); err != nil {
			return "", "", err
		}
	}
	model = filepath.Join(ModelDir(cfg.Dir), path.Base(cfg.ModelURL))
	if _, statErr := os.Stat(model); cfg.Force || statErr != nil {
		sum, err := expectedSHA256(cfg.ModelURL, cfg.ModelSHA256, "network", "--model-sha256")
		if err != nil {
			return "", "", err
		}
		if err := os.MkdirAll(ModelDir(cfg.Dir), 0o755); err != nil {
			return "", "", fmt.Errorf("setup: %w", err)
		}
		if err := cfg.download(ctx, cfg.ModelURL, model, "network", sum); err != nil {
			return "", "", err
		}
	}
	if cfg.Check != nil {
		if err := cfg.Check(ctx, katago, model); err != nil {
			// A binary that does not start is not left for Locate to offer or for the
			// next Install to skip; the network, checked by its digest, stays.
			if rmErr := os.Remove(katago); rmErr != nil && !errors.Is(rmErr, fs.ErrNotExist) {
				err = fmt.Errorf("%w (and removing it failed: %v)", err, rmErr)
			}
			return "", "", fmt.Errorf("setup: installed KataGo does not start: %w", err)
		}
	}
	return katago, model, nil
}

// installKataGo downloads the release archive, checks that its SHA-256 is sum, and
// unpacks it into katago's directory.
func (cfg *InstallConfig) installKataGo(ctx context.Context, katago, sum string) error {
	dir := filepath.Dir(katago)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	archive := filepath.Join(dir, "release.zip.part")
	defer os.Remove(archive)
	if err := cfg.download(ctx, cfg.KataGoURL, archive, "KataGo "+KataGoVersion, sum); err != nil {
		return err
	}
	zr, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("setup: %s is not a zip archive: %w", cfg.KataGoURL, err)
	}
	defer zr.Close()
	found := false
	for _, f := range zr.File {
		name := path.Base(f.Name)
		if f.FileInfo().IsDir() || name == "." || name == "/" {
			continue
		}
		// Files are flattened into dir: release archives hold the binary, its shared
		// libraries and example configs, and nothing may escape dir.
		dst := filepath.Join(dir, name)
		// Linux releases ship the binary plain or as an AppImage (unpacked below).
		if name == "katago" || name == "katago.exe" || (strings.HasPrefix(name, "katago") && strings.HasSuffix(name, ".AppImage")) {
			dst = katago // katago.exe on Windows
			found = true
		}
		if err := extract(f, dst); err != nil {
			return err
		}
	}
	if !found {
		return fmt.Errorf("setup: %s holds no katago binary", cfg.KataGoURL)
	}
	appImage, err := isAppImage(katago)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if appImage {
		return extractAppImage(ctx, katago)
	}
	return nil
}

// isAppImage reports whether the file at p is a type 2 AppImage: an ELF file with the
// bytes "AI" 0x02 at offset 8 of its header.
func isAppImage(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var head [11]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return false, nil
		}
		return false, err
	}
	return string(head[:4]) == "\x7fELF" && string(head[8:]) == "AI\x02", nil
}

// appImageWrapper replaces an extracted AppImage: it runs the AppRun beside it by its own
// path, as an AppRun finds its files through $0, and execs, so that signals reach KataGo.
const appImageWrapper = `#!/bin/sh
# KataGo from its extracted AppImage (see appimage/).
exec "$(dirname "$(readlink -f "$0")")/appimage/AppRun" "$@"
`

// extractAppImage unpacks the AppImage at katago into appimage/ beside it and puts a
// wrapper that runs it in its place: an AppImage mounts itself with FUSE each time it
// runs, which a container or a fresh system often lacks.
func extractAppImage(ctx context.Context, katago string) error {
	dir := filepath.Dir(katago)
	work, err := os.MkdirTemp(dir, "appimage-")
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer os.RemoveAll(work)
	cmd := exec.CommandContext(ctx, katago, "--appimage-extract")
	cmd.Dir = work
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("setup: unpack the KataGo AppImage: %w: %s", err, lastLines(out, 5))
	}
	root := filepath.Join(work, "squashfs-root")
	if !isExecutable(filepath.Join(root, "AppRun"), runtime.GOOS) {
		return errors.New("setup: the KataGo AppImage holds no AppRun")
	}
	app := filepath.Join(dir, "appimage")
	if err := os.RemoveAll(app); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if err := os.Rename(root, app); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if err := os.WriteFile(katago+".part", []byte(appImageWrapper), 0o755); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return os.Rename(katago+".part", katago)
}

// lastLines is the end of a command's output, for an error message.
func lastLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func extract(f *zip.File, dst string) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("setup: unpack %s: %w", f.Name, err)
	}
	defer rc.Close()
	mode := os.FileMode(0o644)
	if f.Mode()&0o111 != 0 || strings.HasPrefix(path.Base(f.Name), "katago") && !strings.Contains(path.Base(f.Name), ".cfg") {
		mode = 0o755
	}
	tmp := dst + ".part"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, mode)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if _, err := io.Copy(out, rc); err != nil {
		out.Close()
		return fmt.Errorf("setup: unpack %s: %w", f.Name, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	return os.Rename(tmp, dst)
}

// download fetches url into dst (through a .part file, so an interrupted download never
// looks finished), drawing progress, and keeps it only when its SHA-256 is sum.
func (cfg *InstallConfig) download(ctx context.Context, url, dst, what, sum string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	resp, err := cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("setup: download %s: %w", what, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("setup: download %s from %s: %s", what, url, resp.Status)
	}
	tmp := dst + ".download"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	defer os.Remove(tmp)
	bar := &progressBar{w: cfg.Progress, terminal: cfg.Terminal, what: what, total: resp.ContentLength, lastTenth: -1}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), io.TeeReader(resp.Body, bar))
	bar.done()
	if err != nil {
		out.Close()
		return fmt.Errorf("setup: download %s: %w", what, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Errorf("%w: the %s from %s has SHA-256 %s, want %s: it is damaged or not the file expected; refused",
			ErrChecksum, what, url, got, sum)
	}
	return os.Rename(tmp, dst)
}

// progressBar is an io.Writer that counts bytes and draws them.
type progressBar struct {
	w         io.Writer
	terminal  bool
	what      string
	total     int64
	n         int64
	lastTenth int64
	lastDraw  time.Time
}

func (p *progressBar) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	p.draw(false)
	return len(b), nil
}

func (p *progressBar) draw(final bool) {
	if p.terminal {
		if !final && time.Since(p.lastDraw) < 100*time.Millisecond {
			return
		}
		p.lastDraw = time.Now()
		if p.total > 0 {
			const width = 30
			fill := int(int64(width) * p.n / p.total)
			fmt.Fprintf(p.w, "\r%s [%s%s] %5.1f/%.1f MB", p.what, strings.Repeat("#", fill), strings.Repeat(".", width-fill), mb(p.n), mb(p.total))
		} else {
			fmt.Fprintf(p.w, "\r%s %.1f MB", p.what, mb(p.n))
		}
		if final {
			fmt.Fprintln(p.w)
		}
		return
	}
	if p.total <= 0 {
		if final {
			fmt.Fprintf(p.w, "%s: %.1f MB\n", p.what, mb(p.n))
		}
		return
	}
	if tenth := p.n * 10 / p.total; tenth != p.lastTenth || final {
		if tenth == p.lastTenth {
			return
		}
		p.lastTenth = tenth
		fmt.Fprintf(p.w, "%s: %d%% of %.1f MB\n", p.what, tenth*10, mb(p.total))
	}
}

func (p *progressBar) done() { p.draw(true) }

func mb(n int64) float64 { return float64(n) / 1e6 }
