// Command hello stands in for the manager in the tests that assemble images:
// a small Go binary with build information.
package main

import "fmt"

func main() { fmt.Println("hello") }
