//go:build !linux

package mailtest

import "os/exec"

func setProcAttr(*exec.Cmd) {}
