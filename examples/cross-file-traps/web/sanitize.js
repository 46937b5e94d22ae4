const path = require('path');

// safeFileName keeps only the last path segment, and only plain characters in it.
function safeFileName(name) {
  const base = path.basename(String(name));
  const plain = base.replace(/[^A-Za-z0-9._-]/g, '');
  return plain.startsWith('.') ? 'download' : plain;
}

module.exports = { safeFileName };
