import type { PageChrome } from '../layout.js';
import { Layout } from '../layout.js';

export function MessagePage(props: { chrome: PageChrome; heading: string; text: string; link?: { href: string; label: string } }) {
  return (
    <Layout {...props.chrome}>
      <section class="card narrow">
        <h1>{props.heading}</h1>
        <p>{props.text}</p>
        {props.link ? <a href={props.link.href}>{props.link.label}</a> : null}
      </section>
    </Layout>
  );
}
