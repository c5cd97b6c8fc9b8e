//go:build !webui

package web

import "io/fs"

// assets is nil in a binary built without the webui tag: Handler serves the page that
// says how to build the UI.
func assets() fs.FS { return nil }
