// Countersign consoles: the passkey ceremonies and live updates. Served as a file: the pages' CSP allows
// no inline script. SimpleWebAuthnBrowser comes from webauthn.js (@simplewebauthn/browser).
'use strict'
;(function () {
  const prefix = document.body.dataset.prefix
  const csrf = document.querySelector('meta[name="csrf-token"]').content
  const status = document.getElementById('status')

  function say(text, isError) {
    if (!status) return
    status.textContent = text
    status.className = isError ? 'error' : ''
  }

  async function call(path, body) {
    const response = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
      credentials: 'same-origin',
    })
    const answer = await response.json().catch(function () {
      return {}
    })
    if (!response.ok) throw new Error(answer.error || 'refused (' + response.status + ')')
    return answer
  }

  function guard(button, work) {
    button.addEventListener('click', async function (event) {
      event.preventDefault()
      button.disabled = true
      try {
        await work(button)
      } catch (error) {
        say(error.message, true)
      } finally {
        button.disabled = false
      }
    })
  }

  const enrol = document.getElementById('enrol')
  if (enrol) {
    guard(enrol, async function () {
      const token = new URLSearchParams(location.hash.slice(1)).get('token') || ''
      const started = await call(prefix + '/enrol/options', { token: token })
      say('Creating a passkey for ' + started.principal + '…')
      const response = await SimpleWebAuthnBrowser.startRegistration({ optionsJSON: started.options })
      const done = await call(prefix + '/enrol', {
        token: token,
        challengeId: started.challengeId,
        response: response,
      })
      location.assign(done.next)
    })
  }

  const signIn = document.getElementById('sign-in')
  if (signIn) {
    guard(signIn, async function () {
      const started = await call(prefix + '/sign-in/options', {})
      const response = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: started.options })
      const done = await call(prefix + '/sign-in', { challengeId: started.challengeId, response: response })
      location.assign(done.next)
    })
  }

  const vote = document.getElementById('vote')
  if (vote) {
    vote.querySelectorAll('button[name="decision"]').forEach(function (button) {
      guard(button, async function () {
        const reason = vote.querySelector('#reason').value
        const started = await call(vote.action + '/options', { decision: button.value, reason: reason })
        say('Confirm with your passkey…')
        const response = await SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: started.options })
        const done = await call(vote.action, { challengeId: started.challengeId, response: response })
        say(done.message)
        vote.querySelectorAll('button').forEach(function (b) {
          b.hidden = true
        })
      })
    })
  }

  // A file input fills the textarea it names (a CSR chosen from disk): the form still posts plain text.
  document.querySelectorAll('input[type="file"][data-fills]').forEach(function (input) {
    input.addEventListener('change', async function () {
      const target = document.getElementById(input.dataset.fills)
      if (input.files[0] && target) target.value = await input.files[0].text()
    })
  })

  const live = document.querySelector('[data-live]')
  if (live && window.EventSource) {
    const events = new EventSource(live.dataset.source || prefix + '/events')
    events.addEventListener(live.dataset.live, function (event) {
      live.innerHTML = event.data
    })
  }
})()
