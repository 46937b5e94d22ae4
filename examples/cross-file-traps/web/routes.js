const express = require('express');
const { sendUpload } = require('./files');
const { safeFileName } = require('./sanitize');

const router = express.Router();

router.get('/uploads', (req, res) => {
  sendUpload(res, safeFileName(req.query.name));
});

module.exports = router;
