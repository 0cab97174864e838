//go:build unix && !linux

package importers

import (
	"os/exec"
	"syscall"
	"time"
)

// killGroup runs cmd in a process group of its own and makes cancelling its context kill the
// whole group with SIGKILL: ogr2ogr can neither ignore it nor leave a child behind.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
}
