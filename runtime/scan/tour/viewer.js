// mj scan tour viewer: a panorama view and a 3D (dollhouse) view of one scan, with
// hotspots, in plain WebGL 1. No network: the scan's data (window.MJ_TOUR) comes from
// data.js beside this file, images as data URIs.
//
// View parameters in the address's hash: view=pano|3d, pano=<index>, yaw=<deg>,
// pitch=<deg>, fov=<deg>. Once the first frame with its images is drawn, <body> gets
// data-state="ready" and data-visible="<hotspots on screen>".
(function () {
  "use strict";
  const T = window.MJ_TOUR;
  const body = document.body;
  const canvas = document.getElementById("gl");
  const spots = document.getElementById("spots");
  const card = document.getElementById("card");
  const gl = canvas.getContext("webgl", { preserveDrawingBuffer: true, antialias: true });
  if (!T || !gl) {
    body.dataset.state = gl ? "no-data" : "no-webgl";
    document.getElementById("message").textContent = gl
      ? "The tour's data (data.js) is missing."
      : "This browser cannot draw WebGL.";
    return;
  }

  const hash = new URLSearchParams(location.hash.slice(1));
  const num = (k, d) => (hash.has(k) && isFinite(parseFloat(hash.get(k))) ? parseFloat(hash.get(k)) : d);
  const rad = Math.PI / 180;
  const state = {
    mode: hash.get("view") === "3d" || T.panoramas.length === 0 ? "3d" : "pano",
    pano: Math.min(Math.max(0, num("pano", 0) | 0), Math.max(0, T.panoramas.length - 1)),
    yaw: num("yaw", 0) * rad,
    pitch: num("pitch", 0) * rad,
    fov: num("fov", 80) * rad,
    theta: num("yaw", 35) * rad,
    phi: num("pitch", 55) * rad,
    zoom: 1,
  };

  // ---------------------------------------------------------------- GL helpers
  function shader(type, src) {
    const s = gl.createShader(type);
    gl.shaderSource(s, src);
    gl.compileShader(s);
    if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s));
    return s;
  }
  function program(vs, fs) {
    const p = gl.createProgram();
    gl.attachShader(p, shader(gl.VERTEX_SHADER, vs));
    gl.attachShader(p, shader(gl.FRAGMENT_SHADER, fs));
    gl.linkProgram(p);
    if (!gl.getProgramParameter(p, gl.LINK_STATUS)) throw new Error(gl.getProgramInfoLog(p));
    return p;
  }
  function texture(url, done) {
    const t = gl.createTexture();
    const img = new Image();
    img.onload = function () {
      gl.bindTexture(gl.TEXTURE_2D, t);
      gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
      gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGB, gl.RGB, gl.UNSIGNED_BYTE, img);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.LINEAR);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
      gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
      t.ready = true;
      done();
    };
    img.src = url;
    return t;
  }

  // ---------------------------------------------------------------- panorama view
  const panoProg = program(
    "attribute vec2 p; varying vec2 v; void main() { v = p; gl_Position = vec4(p, 0.0, 1.0); }",
    [
      "precision highp float;",
      "varying vec2 v; uniform sampler2D tex; uniform vec3 f; uniform vec3 r; uniform vec3 u; uniform vec2 k;",
      "void main() {",
      "  vec3 d = normalize(f + v.x * k.x * r + v.y * k.y * u);",
      "  float lon = atan(d.x, d.z);",
      "  float lat = asin(clamp(d.y, -1.0, 1.0));",
      "  gl_FragColor = texture2D(tex, vec2(lon / 6.283185307 + 0.5, 0.5 - lat / 3.141592654));",
      "}",
    ].join("\n")
  );
  const quad = gl.createBuffer();
  gl.bindBuffer(gl.ARRAY_BUFFER, quad);
  gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
  const panoTex = T.panoramas.map(function (p) {
    return { url: p.image, tex: null };
  });

  function panoBasis() {
    const y = state.yaw, p = state.pitch;
    const f = [Math.cos(p) * Math.sin(y), Math.sin(p), Math.cos(p) * Math.cos(y)];
    const r = [Math.cos(y), 0, -Math.sin(y)];
    // u = f × r
    const u = [f[1] * r[2] - f[2] * r[1], f[2] * r[0] - f[0] * r[2], f[0] * r[1] - f[1] * r[0]];
    const t = Math.tan(state.fov / 2);
    return { f: f, r: r, u: u, k: [t * canvas.width / canvas.height, t] };
  }

  function drawPano() {
    const entry = panoTex[state.pano];
    if (!entry.tex) entry.tex = texture(entry.url, draw);
    if (!entry.tex.ready) return false;
    const b = panoBasis();
    gl.disable(gl.DEPTH_TEST);
    gl.disable(gl.CULL_FACE);
    gl.useProgram(panoProg);
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    const loc = gl.getAttribLocation(panoProg, "p");
    gl.enableVertexAttribArray(loc);
    gl.vertexAttribPointer(loc, 2, gl.FLOAT, false, 0, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, entry.tex);
    gl.uniform1i(gl.getUniformLocation(panoProg, "tex"), 0);
    gl.uniform3fv(gl.getUniformLocation(panoProg, "f"), b.f);
    gl.uniform3fv(gl.getUniformLocation(panoProg, "r"), b.r);
    gl.uniform3fv(gl.getUniformLocation(panoProg, "u"), b.u);
    gl.uniform2fv(gl.getUniformLocation(panoProg, "k"), b.k);
    gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
    return true;
  }

  // Screen position of a direction (longitude, latitude) of the current panorama.
  function panoProject(lon, lat) {
    const b = panoBasis();
    const h = [Math.cos(lat) * Math.sin(lon), Math.sin(lat), Math.cos(lat) * Math.cos(lon)];
    const dot = (a, c) => a[0] * c[0] + a[1] * c[1] + a[2] * c[2];
    const z = dot(h, b.f);
    if (z < 0.01) return null;
    const sx = dot(h, b.r) / z / b.k[0], sy = dot(h, b.u) / z / b.k[1];
    return [((sx + 1) / 2) * canvas.clientWidth, ((1 - sy) / 2) * canvas.clientHeight];
  }

  // ---------------------------------------------------------------- 3D view
  const meshProg = program(
    "attribute vec3 pos; attribute vec2 uv; uniform mat4 mvp; varying vec2 t; void main() { t = uv; gl_Position = mvp * vec4(pos, 1.0); }",
    "precision mediump float; varying vec2 t; uniform sampler2D tex; void main() { gl_FragColor = texture2D(tex, t); }"
  );
  const surfaces = T.mesh.surfaces.map(function (s) {
    const pos = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, pos);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(s.positions), gl.STATIC_DRAW);
    const uv = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, uv);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array(s.uvs), gl.STATIC_DRAW);
    const idx = gl.createBuffer();
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, idx);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, new Uint16Array(s.indices), gl.STATIC_DRAW);
    return { pos: pos, uv: uv, idx: idx, count: s.indices.length, texture: s.texture };
  });
  const meshTex = T.mesh.textures.map(function (url) {
    return { url: url, tex: null };
  });
  const lo = T.mesh.min, hi = T.mesh.max;
  const centre = [(lo[0] + hi[0]) / 2, 0, (lo[2] + hi[2]) / 2];
  const extent = Math.hypot(hi[0] - lo[0], hi[2] - lo[2]);

  function mul(a, b) {
    const o = new Float32Array(16);
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        let s = 0;
        for (let k = 0; k < 4; k++) s += a[k * 4 + j] * b[i * 4 + k];
        o[i * 4 + j] = s;
      }
    return o;
  }
  function mvp() {
    const d = extent * 1.1 * state.zoom;
    const eye = [
      centre[0] + d * Math.cos(state.phi) * Math.sin(state.theta),
      centre[1] + d * Math.sin(state.phi),
      centre[2] + d * Math.cos(state.phi) * Math.cos(state.theta),
    ];
    const sub = (a, b) => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
    const norm = (a) => { const l = Math.hypot(a[0], a[1], a[2]); return [a[0] / l, a[1] / l, a[2] / l]; };
    const cross = (a, b) => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    const dot = (a, b) => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    const z = norm(sub(eye, centre)), x = norm(cross([0, 1, 0], z)), y = cross(z, x);
    const view = new Float32Array([x[0], y[0], z[0], 0, x[1], y[1], z[1], 0, x[2], y[2], z[2], 0, -dot(x, eye), -dot(y, eye), -dot(z, eye), 1]);
    const f = 1 / Math.tan(25 * rad), a = canvas.width / canvas.height, n = 0.1, far = 500;
    const proj = new Float32Array([f / a, 0, 0, 0, 0, f, 0, 0, 0, 0, (far + n) / (n - far), -1, 0, 0, (2 * far * n) / (n - far), 0]);
    return mul(proj, view);
  }

  function draw3d() {
    let ready = true;
    gl.enable(gl.DEPTH_TEST);
    gl.enable(gl.CULL_FACE);
    gl.cullFace(gl.BACK);
    gl.useProgram(meshProg);
    gl.uniformMatrix4fv(gl.getUniformLocation(meshProg, "mvp"), false, mvp());
    gl.uniform1i(gl.getUniformLocation(meshProg, "tex"), 0);
    const lp = gl.getAttribLocation(meshProg, "pos"), lu = gl.getAttribLocation(meshProg, "uv");
    gl.enableVertexAttribArray(lp);
    gl.enableVertexAttribArray(lu);
    for (const s of surfaces) {
      const entry = meshTex[s.texture];
      if (!entry.tex) entry.tex = texture(entry.url, draw);
      if (!entry.tex.ready) { ready = false; continue; }
      gl.bindTexture(gl.TEXTURE_2D, entry.tex);
      gl.bindBuffer(gl.ARRAY_BUFFER, s.pos);
      gl.vertexAttribPointer(lp, 3, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ARRAY_BUFFER, s.uv);
      gl.vertexAttribPointer(lu, 2, gl.FLOAT, false, 0, 0);
      gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, s.idx);
      gl.drawElements(gl.TRIANGLES, s.count, gl.UNSIGNED_SHORT, 0);
    }
    return ready;
  }

  function project3d(p) {
    const m = mvp();
    const c = [0, 1, 2, 3].map((j) => m[j] * p[0] + m[4 + j] * p[1] + m[8 + j] * p[2] + m[12 + j]);
    if (c[3] <= 0.01) return null;
    return [((c[0] / c[3] + 1) / 2) * canvas.clientWidth, ((1 - c[1] / c[3]) / 2) * canvas.clientHeight];
  }

  // ---------------------------------------------------------------- hotspots
  const ICONS = { product: "🛋", video: "▶", audio: "♪", link: "🔗", location: "⌖", panorama: "◎" };
  function marker(kind, label, onclick) {
    const el = document.createElement("div");
    el.className = "hotspot " + kind;
    el.innerHTML = '<span class="dot"></span><span class="label"></span>';
    el.querySelector(".label").textContent = (ICONS[kind] || "•") + " " + label;
    el.addEventListener("click", onclick);
    spots.appendChild(el);
    return el;
  }
  const hotspotEls = T.hotspots.map(function (h) {
    return marker(h.kind, h.display || h.name, function () { show(h); });
  });
  const panoEls = T.panoramas.map(function (p, i) {
    return marker("panorama", p.room, function () { go(i); });
  });

  function show(h) {
    card.hidden = false;
    card.querySelector(".title").textContent = h.display || h.name;
    card.querySelector(".kind").textContent = h.kind;
    const target = card.querySelector(".target");
    target.textContent = "";
    if (h.kind === "link" || h.kind === "video" || h.kind === "audio") {
      const a = document.createElement("a");
      a.href = h.target;
      a.textContent = h.target;
      target.appendChild(a);
    } else {
      target.textContent = h.target;
    }
  }
  function go(i) {
    state.mode = "pano";
    state.pano = i;
    draw();
  }

  function place(el, at) {
    if (!at || at[0] < 0 || at[1] < 0 || at[0] > canvas.clientWidth || at[1] > canvas.clientHeight) {
      el.style.display = "none";
      return 0;
    }
    el.style.display = "block";
    el.style.left = at[0].toFixed(1) + "px";
    el.style.top = at[1].toFixed(1) + "px";
    return 1;
  }

  function placeAll() {
    let visible = 0;
    T.hotspots.forEach(function (h, i) {
      const at = state.mode === "pano" ? panoProject(h.views[state.pano].lon, h.views[state.pano].lat) : project3d(h.position);
      visible += place(hotspotEls[i], at);
    });
    T.panoramas.forEach(function (p, i) {
      let at = null;
      if (state.mode === "3d") at = project3d([p.position[0], 0.05, p.position[2]]);
      else if (i !== state.pano) {
        const d = T.panoramas[state.pano].links[i];
        if (d) at = panoProject(d.lon, d.lat);
      }
      place(panoEls[i], at);
    });
    return visible;
  }

  // ---------------------------------------------------------------- frame
  function resize() {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    gl.viewport(0, 0, canvas.width, canvas.height);
  }
  let pending = false;
  function draw() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      resize();
      gl.clearColor(0.93, 0.94, 0.95, 1);
      gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
      const ready = state.mode === "pano" ? drawPano() : draw3d();
      const visible = placeAll();
      document.getElementById("mode-pano").classList.toggle("on", state.mode === "pano");
      document.getElementById("mode-3d").classList.toggle("on", state.mode === "3d");
      document.getElementById("where").textContent =
        state.mode === "pano" && T.panoramas.length ? T.panoramas[state.pano].room : T.title;
      if (ready) {
        body.dataset.visible = String(visible);
        body.dataset.state = "ready";
      }
    });
  }

  // ---------------------------------------------------------------- input
  let drag = null;
  canvas.addEventListener("pointerdown", function (e) { drag = [e.clientX, e.clientY]; });
  window.addEventListener("pointerup", function () { drag = null; });
  window.addEventListener("pointermove", function (e) {
    if (!drag) return;
    const dx = e.clientX - drag[0], dy = e.clientY - drag[1];
    drag = [e.clientX, e.clientY];
    if (state.mode === "pano") {
      const k = state.fov / canvas.clientHeight;
      state.yaw -= dx * k;
      state.pitch = Math.max(-1.5, Math.min(1.5, state.pitch + dy * k));
    } else {
      state.theta -= dx * 0.01;
      state.phi = Math.max(0.1, Math.min(1.5, state.phi + dy * 0.01));
    }
    draw();
  });
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    if (state.mode === "pano") state.fov = Math.max(30 * rad, Math.min(110 * rad, state.fov * (1 + e.deltaY * 0.001)));
    else state.zoom = Math.max(0.3, Math.min(3, state.zoom * (1 + e.deltaY * 0.001)));
    draw();
  }, { passive: false });
  document.getElementById("mode-pano").addEventListener("click", function () { if (T.panoramas.length) { state.mode = "pano"; draw(); } });
  document.getElementById("mode-3d").addEventListener("click", function () { state.mode = "3d"; draw(); });
  card.querySelector(".close").addEventListener("click", function () { card.hidden = true; });
  window.addEventListener("resize", draw);
  draw();
})();
