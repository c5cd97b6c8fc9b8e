// Command fakemain stands in for cmd/tesuji when the package test runs ami.sh: it only
// has to be a main package that builds for linux/amd64.
package main

import "fmt"

func main() {
	fmt.Println("tesuji stand-in for the ami.sh test")
}
