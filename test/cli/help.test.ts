import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { memoryIO } from '../support/io.ts';

/** Runs `phenoface <argv>` through the injected-argv main and returns what it printed. */
async function help(...argv: string[]): Promise<string> {
  const io = memoryIO();
  expect(await main(argv, io)).toBe(0);
  expect(io.stderr).toBe('');
  return io.stdout;
}

describe('help text, derived from each command\'s argument table', () => {
  it('phenoface --help lists the commands', async () => {
    expect(await help('--help')).toMatchInlineSnapshot(`
      "Phenoface: face-photo screening for 22q11.2 deletion syndrome, run on your own machine.

      Usage: phenoface <command> [options]   (phenoface <command> --help for its options)

      Commands:
        detect  find faces, landmarks, head pose and view in photos
        embed   align and embed the face of each photo (JSON lines)
        study   train and evaluate a classifier on labelled photos; writes a report and a model
        screen  score one person's photos with a trained model
        synth   build a planted-phenotype data set from control photos
        demo    run the whole pipeline on a small synthetic study
        serve   start the local web application
        models  build or list the models (run by npm install)
      "
    `);
  });
  it('detect', async () => {
    expect(await help('detect', '--help')).toMatchInlineSnapshot(`
      "Usage: phenoface detect <images or folders...> [--json] [--min-face PX] [--min-face-ratio R] [--landmarks KIND] [--quiet]

      Finds every face in each photo (folders are walked for images) with its landmarks, head pose and view.

      Options:
            --json              one JSON line per photo (contract v1) instead of a summary line (default: off)
            --min-face PX       smallest face searched for, in pixels; not a size filter: faces down to about half of it may be listed (default: 20)
            --min-face-ratio R  smallest face searched for, relative to the photo's shorter side (0 = off) (default: 0)
            --landmarks KIND    also place each face's dense landmarks (model facemesh), listed as "landmarksDense" with --json
                                one of: dense (default: none)
        -q, --quiet             no progress on stderr (default: off)
        -h, --help              print this help

      Examples:
        phenoface detect photos/ --json > faces.jsonl
        phenoface detect photo.jpg --json --landmarks dense
      "
    `);
  });
  it('embed', async () => {
    expect(await help('embed', '--help')).toMatchInlineSnapshot(`
      "Usage: phenoface embed <images or folders...> | --manifest FILE [--out FILE.jsonl] [--backbone NAME] [--flip] [--json] [--quiet]

      Aligns and embeds the chosen face of each photo: one JSON line per photo (contract v1) into --out, or on
      standard output with --json; without either, a line of text per photo.

      Options:
            --manifest FILE   CSV whose "path" column lists the photos (relative to it), instead of photos (default: none)
        -o, --out FILE.jsonl  write the JSON lines here (replaced only once every line is written) (default: standard output)
            --backbone NAME   embedding network
                              one of: mobilefacenet, dlib-resnet (default: mobilefacenet)
            --flip            also embed the mirrored face and sum the two vectors (the flip test) (default: off)
            --json            the JSON lines on standard output (what --out writes) instead of a line of text per photo (default: off)
        -q, --quiet           no progress or summary on stderr (default: off)
        -h, --help            print this help

      Examples:
        phenoface embed photos/ --out embeddings.jsonl
        phenoface embed --manifest study.csv --backbone dlib-resnet -o embeddings.jsonl
      "
    `);
  });
  it('study', async () => {
    expect(await help('study', '--help')).toMatchInlineSnapshot(`
      "Usage: phenoface study --manifest FILE|FOLDER --out DIR [--folds K] [--repeats R] [--seed S] [--positive CLASS] [--classifier NAME] [--ranker NAME] [--backbone NAME] [--prevalence P] [--bootstrap B] [--permutations P] [--features NAMES] [--frontal-only] [--embeddings FILE.jsonl] [--validate-by COLUMN] [--cache FILE] [--root DIR] [--quiet]

      Trains and evaluates a classifier with subject-grouped cross-validation (no person is in both
      the training and the test folds) and writes predictions.csv, metrics.json, report.html and model/.

      Options:
            --manifest FILE|FOLDER   CSV with path,subject,label[,view] (paths relative to it), or a folder ROOT/<label>/<subject>/<photo> (default: none, required)
        -o, --out DIR                output folder (default: none, required)
            --folds K                outer cross-validation folds (default: 10, or fewer where a class has too few people)
            --repeats R              repeats of the K-fold with fresh shuffles (default: 3)
            --seed S                 seed of the splits, the bootstrap and the permutations (default: 1)
            --positive CLASS         the label that counts as positive; with 3+ classes it is
                                     one-vs-rest (all others negative), and without it the classes are ranked (default: vcfs)
            --classifier NAME        classifier family
                                     one of: logistic, svm, centroid (default: logistic)
            --ranker NAME            with 3+ classes and no --positive: the ranking classifier
                                     (auto: inner CV picks multinomial or gallery); writes ranking.csv
                                     one of: auto, multinomial, gallery (default: auto)
            --backbone NAME          embedding network
                                     one of: mobilefacenet, dlib-resnet (default: mobilefacenet)
            --prevalence P           population prevalence used for PPV and NPV (default: 0.00025)
            --bootstrap B            subject bootstrap replicates of the 95% intervals (0 = none) (default: 1000)
            --permutations P         label permutations of the permutation test (0 = none) (default: 100)
            --features NAMES         what to learn from: auto (embedding, regions, geometry stacked, weighed by the inner CV; a block given weight 0 is dropped), or embedding, geometry, regions or several joined by + (stacked) (default: auto)
            --frontal-only           use frontal photos only (default: off)
            --embeddings FILE.jsonl  precomputed embeddings (\`phenoface embed\`'s JSON lines) matched to the manifest by path; no photo is read (default: embed the photos)
            --validate-by COLUMN     also hold out each value of this manifest column in turn (e.g. source, the site);
                                     writes each held-out score to site-predictions.csv (default: none)
            --cache FILE             embedding cache file, reused by later runs (default: DIR/cache.sqlite)
            --root DIR               folder the manifest's paths are relative to (default: the manifest's folder)
        -q, --quiet                  no progress on stderr (default: off)
        -h, --help                   print this help

      Examples:
        phenoface study --manifest study.csv --out results/ --classifier svm --permutations 1000
        phenoface study --manifest pooled.csv --embeddings pooled.jsonl --validate-by source --out results/
      "
    `);
  });
  it('screen', async () => {
    expect(await help('screen', '-h')).toMatchInlineSnapshot(`
      "Usage: phenoface screen <photos or folder...> | --embeddings FILE.jsonl --model DIR/model [--json] [--explain DIR] [--cam NAME] [--prevalence P]

      Screens photos of one person with a trained model: each photo's score, view and quality warnings,
      and the person's result: the call, what it means at a prevalence, and the fused score (a classifier
      score, not a chance of disease). A screening aid, not a diagnosis.

      Options:
        -m, --model DIR/model        the model/ folder written by \`phenoface study\` (default: none, required)
            --json                   print the result as one JSON object (contract v1) (default: off)
            --explain DIR            write each photo's heatmaps to DIR (never over an earlier screening's) and list its top regions (default: no explanation)
            --cam NAME               the map --explain draws
                                     one of: contrastive, hirescam, gradcam, gradcam-14x14 (default: contrastive)
            --embeddings FILE.jsonl  score precomputed embeddings (\`phenoface embed\`'s JSON lines, one person's photos) instead of photos (default: read the photos)
            --prevalence P           the pre-test chance the result's chance assumes (e.g. a referral clinic's share of affected patients) (default: 0.00025)
        -h, --help                   print this help

      Examples:
        phenoface screen photos/patient-1/ --model results/model --explain heatmaps/
        phenoface screen --model results/model --embeddings patient-1.jsonl --json
      "
    `);
  });
  it('synth', async () => {
    expect(await help('synth', '--help')).toMatchInlineSnapshot(`
      "Usage: phenoface synth --manifest FILE|FOLDER --out DIR [--regions LIST] [--strength S] [--classes SPEC] [--fraction F] [--seed N] [--preview] [--quality Q] [--json] [--quiet]

      Builds a planted-phenotype data set: a seeded fraction of subjects ("vcfs") get a smooth
      22q11.2DS-like warp on every photo; the rest ("control") pass through the same resampling unchanged.

      Options:
            --manifest FILE|FOLDER  CSV with path,subject[,view] (paths relative to it), or a folder ROOT/<subject>/<photo> (default: none, required)
            --out DIR               new or empty folder, or an earlier synth's (replaced once the new set is complete):
                                    images/, manifest.csv, truth.json (and preview.png) (default: none, required)
            --regions LIST          regions to warp, or "all" (with --strength)
                                    comma-separated, from: periorbital, perinasal, perioral, facelength (default: none)
            --strength S            0..1 (1 obvious, 0.5 subtle, 0 plants nothing) (default: none)
            --classes SPEC          instead of --regions and --strength: several planted classes, each with its
                                    own regions and strengths, dealt the affected subjects in turn; the rest
                                    stay "control". SPEC: name:region=S[+region=S...][,name:...], e.g.
                                    "a:perinasal=0.6,b:periorbital=0.5+perioral=0.4" (default: none)
            --fraction F            share of subjects affected (all classes together), in (0, 1) (default: 0.5)
            --seed N                seed of who is affected and of the warps (default: 1)
            --preview               also write preview.png: before / planted / strength 1, per affected photo (default: off)
            --quality Q             JPEG quality of every written photo (default: 95)
            --json                  a refused photo as a JSON line (contract v1) instead of a line of text (default: off)
        -q, --quiet                 no progress on stderr (default: off)
        -h, --help                  print this help

      Examples:
        phenoface synth --manifest controls/ --out planted/ --regions all --strength 0.5 --preview
        phenoface synth --manifest controls/ --out ranked/ --classes "a:perinasal=0.8,b:periorbital=0.8,c:perioral=0.6+facelength=0.6" --fraction 0.75
      "
    `);
  });
  it('demo', async () => {
    expect(await help('demo', '--help')).toMatchInlineSnapshot(`
      "Usage: phenoface demo [--out DIR] [--photos FOLDER|MANIFEST] [--strength S] [--quick] [--seed N] [--no-open] [--quiet]

      Runs Phenoface end to end on a small SYNTHETIC study, offline: faces from the demo photos that
      come with npm install (or your --photos), a 22q11.2DS-like warp planted in half of the people,
      a subject-grouped cross-validated study, and screening, with heatmaps, of two people the model
      never saw. Not a clinical model.

      Options:
        -o, --out DIR                 output folder; new, empty, or an earlier demo's (default: phenoface-demo)
            --photos FOLDER|MANIFEST  a folder ROOT/<person>/<photo> or a manifest CSV (path,subject[,view]) of control photos (default: the bundled demo photos)
            --strength S              planted strength (1 obvious, 0.5 subtle) (default: 0.9)
            --quick                   fewer photos per person and a lighter study (about half the time) (default: off)
            --seed N                  seed of the people, the warps and the study (default: 1)
            --no-open                 do not open the report in a browser (default: off)
        -q, --quiet                   no progress on stderr (default: off)
        -h, --help                    print this help

      Examples:
        phenoface demo
        phenoface demo --quick --no-open --out /tmp/demo
      "
    `);
  });
  it('serve', async () => {
    expect(await help('serve', '--help')).toMatchInlineSnapshot(`
      "Usage: phenoface serve --model DIR/model [--host ADDRESS] [--port PORT] [--token T] [--prevalence P] [--keep DIR]

      Starts the local web application: open the printed address in a browser, upload photos of one
      patient, and read the screening result with its explanation.

      Options:
            --model DIR/model  the model/ folder written by \`phenoface study\` (or \`phenoface demo\`) (default: none, required)
            --host ADDRESS     address to listen on (the default: this machine only);
                               any other address needs an access token (default: 127.0.0.1)
            --port PORT        TCP port (0 picks a free one) (default: 8080)
            --token T          access token (at least 16 characters) every API request must send
                               as "Authorization: Bearer <token>". Make one with \`openssl rand -hex 16\`.
                               With a token, Host and Origin headers are not checked, so the server also
                               works behind an HTTPS reverse proxy (default: the PHENOFACE_TOKEN environment variable)
            --prevalence P     the pre-test chance every result's chance assumes (e.g. a referral clinic's share of
                               affected patients); the page lets the clinician change it for a result (default: 0.00025)
            --keep DIR         write each screening's photos and result to a new folder in DIR (default: off, photos stay in memory and are never written to disk or logs)
        -h, --help             print this help

      Limits: 10 photos a request, 20 MB and 50 megapixels a photo; 2 screenings
      at a time with 8 waiting, then "busy" (HTTP 503). An upload must arrive within
      2 s per MB (at least 10 s), and one address may send 4 at once.

      Examples:
        phenoface serve --model results/model
        PHENOFACE_TOKEN=$(openssl rand -hex 16) phenoface serve --model results/model --host 0.0.0.0
      "
    `);
  });
  it('models', async () => {
    expect(await help('models', '--help')).toMatchInlineSnapshot(`
      "Usage: phenoface models <build|list> [--quiet-if-ready] [--force] [--json] [--dir DIR]

      build: fetches, verifies and converts the networks (npm install runs it with --quiet-if-ready).
      list: what the manifest records about each model and whether it is built.

      Options:
            --quiet-if-ready  build: print nothing when every model is already built (default: off)
            --force           build: rebuild models that are already built (default: off)
            --json            list: print one JSON object (contract v1) (default: off)
            --dir DIR         models folder (default: the package's models/ folder)
        -h, --help            print this help

      Examples:
        phenoface models list
        phenoface models build --force
      "
    `);
  });
});

describe('parsing from the same tables', () => {
  it('refuses a classifier outside the registry, naming the allowed set', async () => {
    const io = memoryIO();
    expect(await main(['study', '--manifest', 'm.csv', '--out', 'o', '--classifier', 'forest'], io)).toBe(2);
    expect(io.stderr).toMatch(/Unknown --classifier: "forest". Should be one of: logistic, svm, centroid\./);
  });
  it('refuses a backbone outside the registry, naming the allowed set', async () => {
    const io = memoryIO();
    expect(await main(['embed', 'x.jpg', '--backbone', 'vgg'], io)).toBe(2);
    expect(io.stderr).toMatch(/Unknown --backbone: "vgg". Should be one of: mobilefacenet, dlib-resnet\./);
  });
  it('refuses a number outside its bounds, naming them', async () => {
    const io = memoryIO();
    expect(await main(['study', '--manifest', 'm.csv', '--out', 'o', '--folds', '1'], io)).toBe(2);
    expect(io.stderr).toMatch(/Invalid --folds: "1". Should be an integer in \[2, 100\]\./);
  });
  it('refuses a number not written in decimal (hex, binary, octal), which would be read unannounced', async () => {
    for (const [option, value] of [['--folds', '0x3'], ['--bootstrap', '0b11'], ['--seed', '0o17'], ['--prevalence', '0x0']]) {
      const io = memoryIO();
      expect(await main(['study', '--manifest', 'm.csv', '--out', 'o', option, value], io), value).toBe(2);
      expect(io.stderr).toContain(`Invalid ${option}: "${value}". Should be`);
    }
  });
});
