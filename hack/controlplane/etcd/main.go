// Command etcd is the upstream etcd server, built from source so that envtest
// and the local cluster need no prebuilt download.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
