// Preloaded (node --require) into a CLI run whose peak memory a test or bench measures: at exit, writes this
// process's VmHWM line from /proc/self/status (the resident high-water mark, in kB) to $ISCSI_MPIO_VMHWM_FILE.
const fs = require('node:fs');
const file = process.env.ISCSI_MPIO_VMHWM_FILE;
if (file) {
  process.on('exit', () => {
    const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    fs.writeFileSync(file, line ? line.replace(/\D+/g, '') : '');
  });
}
