// Command goplain is a Go program that does not link crypto/tls: the monitor must report it as
// not a TLS user rather than fail.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello from", os.Args[0])
}
