// The try-it page: plain browser JavaScript, no build step. It uses the server's own routes:
// GET /v1/models (models, versions, labels) and POST /v1/models/{m}[/versions/{v}|/labels/{l}]:classify.
/* global document, fetch, FileReader, Image */
(function () {
  'use strict';
  var TOP_K = 5;
  var $ = function (id) {
    return document.getElementById(id);
  };
  var canvas = $('canvas');
  var ctx = canvas.getContext('2d');
  var models = [];
  var drawing = false;
  var last = null;

  function clear() {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    $('results').textContent = '';
    $('answered').textContent = '';
    $('error').textContent = '';
  }

  function point(e) {
    var r = canvas.getBoundingClientRect();
    return {
      x: ((e.clientX - r.left) * canvas.width) / r.width,
      y: ((e.clientY - r.top) * canvas.height) / r.height,
    };
  }

  canvas.addEventListener('pointerdown', function (e) {
    drawing = true;
    last = point(e);
    canvas.setPointerCapture(e.pointerId);
    stroke(last, last);
  });
  canvas.addEventListener('pointermove', function (e) {
    if (!drawing) return;
    var p = point(e);
    stroke(last, p);
    last = p;
  });
  canvas.addEventListener('pointerup', function () {
    drawing = false;
  });

  function stroke(a, b) {
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 22;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x, b.y);
    ctx.stroke();
  }

  function route() {
    var m = $('model').value;
    var v = $('version').value;
    var base = 'v1/models/' + encodeURIComponent(m);
    if (v.indexOf('version:') === 0) base += '/versions/' + encodeURIComponent(v.slice(8));
    if (v.indexOf('label:') === 0) base += '/labels/' + encodeURIComponent(v.slice(6));
    return base + ':classify';
  }

  function classify(b64) {
    $('error').textContent = '';
    return fetch(route(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ examples: [{ input: { b64: b64 } }], top_k: TOP_K }),
    })
      .then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) throw new Error(body.error || 'HTTP ' + res.status);
          show(body.result[0], res.headers.get('x-model-version') || body.model_version);
        });
      })
      .catch(function (e) {
        $('error').textContent = String(e.message || e);
      });
  }

  function show(top, version) {
    var list = $('results');
    list.textContent = '';
    top.forEach(function (pair) {
      var li = document.createElement('li');
      li.dataset.label = pair[0];
      li.dataset.probability = String(pair[1]);
      var name = document.createElement('strong');
      name.className = 'label';
      name.textContent = pair[0];
      var bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = Math.max(1, Math.round(pair[1] * 100)) + '%';
      var pct = document.createElement('span');
      pct.className = 'probability';
      pct.textContent = (pair[1] * 100).toFixed(1) + ' %';
      li.append(name, bar, pct);
      list.append(li);
    });
    var answered = $('answered');
    answered.dataset.version = version;
    answered.textContent = 'Answered by ' + $('model').value + ' version ' + version;
  }

  function predictCanvas() {
    return classify(canvas.toDataURL('image/png').split(',')[1]);
  }

  function predictFile(file) {
    if (!file) return;
    var reader = new FileReader();
    reader.onload = function () {
      var url = String(reader.result);
      var img = new Image();
      img.onload = function () {
        // Show the image on the canvas (fit, centred) and send the file's own bytes.
        clear();
        var s = Math.min(canvas.width / img.width, canvas.height / img.height);
        ctx.drawImage(
          img,
          (canvas.width - img.width * s) / 2,
          (canvas.height - img.height * s) / 2,
          img.width * s,
          img.height * s,
        );
        classify(url.split(',')[1]);
      };
      img.onerror = function () {
        $('error').textContent = 'not an image the browser can show; sending it anyway';
        classify(url.split(',')[1]);
      };
      img.src = url;
    };
    reader.readAsDataURL(file);
  }

  var drop = $('drop');
  drop.addEventListener('dragover', function (e) {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', function () {
    drop.classList.remove('over');
  });
  drop.addEventListener('drop', function (e) {
    e.preventDefault();
    drop.classList.remove('over');
    predictFile(e.dataTransfer.files[0]);
  });
  $('file').addEventListener('change', function (e) {
    predictFile(e.target.files[0]);
  });
  $('predict').addEventListener('click', predictCanvas);
  $('clear').addEventListener('click', clear);

  function fillVersions() {
    var m = models.filter(function (x) {
      return x.name === $('model').value;
    })[0];
    var select = $('version');
    select.textContent = '';
    if (!m) return;
    var add = function (value, text) {
      var o = document.createElement('option');
      o.value = value;
      o.textContent = text;
      select.append(o);
    };
    add('', 'default (version ' + m.default_version + ')');
    Object.keys(m.labels).forEach(function (l) {
      add('label:' + l, 'label ' + l + ' (version ' + m.labels[l] + ')');
    });
    m.versions.forEach(function (v) {
      if (v.state === 'AVAILABLE') add('version:' + v.version, 'version ' + v.version);
    });
  }

  $('model').addEventListener('change', fillVersions);
  clear();
  fetch('v1/models')
    .then(function (res) {
      return res.json();
    })
    .then(function (body) {
      models = body.models;
      models.forEach(function (m) {
        var o = document.createElement('option');
        o.value = m.name;
        o.textContent = m.name;
        $('model').append(o);
      });
      fillVersions();
      document.body.dataset.ready = 'true';
    })
    .catch(function (e) {
      $('error').textContent = 'cannot list models: ' + e.message;
    });
})();
