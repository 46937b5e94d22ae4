const fs = require('fs');
const path = require('path');

const UPLOADS = '/srv/uploads';

function sendUpload(res, fileName) {
  const full = path.join(UPLOADS, fileName);
  fs.createReadStream(full).pipe(res);
}

module.exports = { sendUpload };
