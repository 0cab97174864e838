//go:build !unix

package importers

import (
	"os/exec"
	"time"
)

// killGroup: without process groups, cancelling kills the tool itself (exec.CommandContext).
func killGroup(cmd *exec.Cmd) { cmd.WaitDelay = 5 * time.Second }
