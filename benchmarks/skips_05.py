"""Skip connections of 05-cnn's PhasePicker: the reference U-Net against the same network without skips
(the mutant picker-without-skips), each trained as the notebook does (8 epochs, lr 2e-2) with several
seeds on data/phases, scored on the test split. The numbers quoted in the notebook come from

    python benchmarks/skips_05.py data/phases 0,1,2

It reads the solution and the mutant from source/ and tests/mutants/, so it holds no copy of either."""
import json,sys,time,tomllib,warnings
import numpy as np, torch
from torch import nn
import torch.nn.functional as F
from scipy import signal
from fractions import Fraction
from pathlib import Path
torch.set_num_threads(1)
DATA=Path(sys.argv[1]); seeds=[int(s) for s in sys.argv[2].split(',')] if len(sys.argv)>2 else [0]
nb=json.load(open('source/05-cnn/05-cnn.ipynb'))
cells={c['metadata'].get('nbgrader',{}).get('grade_id'):''.join(c['source']) for c in nb['cells']}
g=dict(np=np,torch=torch,nn=nn,F=F,signal=signal,Fraction=Fraction,warnings=warnings)
for k in ('answer_phase_labels','answer_phase_picker','answer_train_picker','answer_extract_picks','answer_pick_metrics'): exec(cells[k],g)
mut={m['name']:m for m in tomllib.load(open('tests/mutants/05-cnn.toml','rb'))['mutant']}
g2=dict(g); exec(mut['picker-without-skips']['code'],g2)
def norm(x):
    x=np.asarray(x,np.float32); x=x-x.mean(-1,keepdims=True); return x/np.maximum(np.abs(x).max(axis=(-2,-1),keepdims=True),1e-12)
def load(n):
    return norm(np.load(DATA/f'{n}_waveforms.npy')), np.genfromtxt(DATA/f'{n}_catalog.csv',delimiter=',',names=True)
lab=lambda c: np.stack([g['make_phase_labels'](512,int(p),int(s),10) for p,s in zip(c['p_index'],c['s_index'])]).astype(np.float32)
xt,ct=load('train'); xv,cv=load('valid'); xe,ce=load('test')
yt,yv=lab(ct),lab(cv)
for name,G in [('unet',g),('noskip',g2)]:
  for seed in seeds:
    torch.manual_seed(seed); m=G['PhasePicker'](); t0=time.time()
    tr,va=g['train_picker'](m,xt,yt,xv,yv,epochs=8,lr=2e-2,seed=seed)
    m.eval()
    with torch.no_grad(): q=m(torch.as_tensor(xe)).numpy()
    picks=[g['extract_picks'](qq) for qq in q]
    out=[]
    sel=ce['snr']>=4
    for ph,col,row in [('P','p_index',0),('S','s_index',1)]:
        mm=g['pick_metrics']([p[ph] for p in picks],ce[col].astype(int),0.1,100.0)
        m5=g['pick_metrics']([p[ph] for p in picks],ce[col].astype(int),0.05,100.0)
        found=[bool(len(p[ph]) and np.min(np.abs(p[ph]-t))<=10) for p,t,s in zip(picks,ce[col].astype(int),sel) if s]
        out.append(f"{ph} prec {mm['precision']:.3f} rec {mm['recall']:.3f} mae {mm['mae']:.3f} rec05 {m5['recall']:.3f} found4 {np.mean(found):.3f}")
    print(name,seed,f"{time.time()-t0:.1f}s valid {va[-1]:.4f}",' | '.join(out),flush=True)
