// Package deploy holds what runs the LRS in production: the container
// image (Dockerfile, build.sh), the single-host topology (compose.yaml)
// and the Kubernetes chart (helm/lrs). Its Go code is only the tests that
// keep them true to the LRS: every LRS_* variable they set is one
// cmd/lrs reads, and the chart renders to valid Kubernetes objects.
//
// It imports no package of the LRS: the tests read cmd/lrs's source, so
// that a deployment file cannot name a variable the LRS has dropped.
// deploy/ferretdb is a module of its own and no part of this package.
package deploy
